"""The ASGI application: the API routers, the page, `/metrics`, behind the guard."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from watcher import __version__
from watcher.http import api_read, api_workflows, errors, page
from watcher.http.context import HttpContext
from watcher.http.guard import App, Guard
from watcher.http.metrics import exposition

API_DESCRIPTION = """watcher's REST API. Every request needs `Authorization: Bearer <token>`
(the token is in the file `watcher run --listen` names at start). Errors are
`{"error": {"code": ..., "message": ...}}`; field names are those of the CLI's `--json`."""


def build_app(ctx: HttpContext, *, secure: bool = False, read_only: bool = False) -> App:
    """The application for `ctx`, wrapped in `Guard` (see `watcher.http.guard`)."""
    app = FastAPI(title="watcher", version=__version__, description=API_DESCRIPTION,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    errors.install(app)
    app.include_router(api_workflows.router)
    app.include_router(api_read.router)
    app.include_router(page.router)

    @app.get("/metrics", tags=["metrics"], summary="Prometheus metrics (text format)",
             response_class=Response)
    async def metrics(request: Request) -> Response:
        body = await asyncio.to_thread(exposition, ctx.store, ctx.settings)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Guard(app, ctx.tokens, max_body=ctx.settings.http.max_body, secure=secure,
                 read_only=read_only)
