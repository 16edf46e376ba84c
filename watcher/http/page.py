"""The web page: `/` (plain HTML with the CSRF value in a meta tag) and its two static files.
The script (`static/app.js`) polls the API and redraws in place; no build step, no CDN."""

from __future__ import annotations

from importlib import resources
from string import Template

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from watcher.http.context import HttpContext
from watcher.http.errors import ApiError

router = APIRouter(include_in_schema=False)
_STATIC = resources.files("watcher.http") / "static"
_TYPES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
# Only this origin's files run or style the page: a value that slipped into the HTML could
# not load a script, and nothing of the page may be framed.
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@router.get("/")
async def index(request: Request) -> HTMLResponse:
    """The web page, with this server's CSRF token and a strict Content-Security-Policy."""
    ctx: HttpContext = request.app.state.ctx
    html = Template((_STATIC / "index.html").read_text()).substitute(csrf=ctx.tokens.csrf)
    return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """One of the page's own files by name; any other name is 404."""
    if name not in _TYPES:
        raise ApiError(404, "not_found", f"no static file '{name[:40]}'")
    return Response((_STATIC / name).read_bytes(), media_type=_TYPES[name])
