"""What every request passes before any route sees it (an ASGI middleware).

1. The body is at most `max_body` bytes: a longer one is refused with 413 before it is read
   whole, so a 10 MB POST costs nothing.
2. `GET /?token=T` is the browser's login: T (a one-time link's nonce, or the token) buys an
   HttpOnly, SameSite=Strict session cookie and a redirect to `/`, which drops T from the
   address bar and the history.
3. Everything else needs `Authorization: Bearer <token>` or the session cookie; a write
   (POST, DELETE, ...) with the cookie also needs the page's CSRF value in `X-CSRF-Token` and,
   when the browser says where it comes from, an `Origin` of this server. `watcher serve`
   (read-only) refuses every write.
4. Responses are never cached or framed, and send no referrer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, RedirectResponse, Response

from watcher.http.errors import error_response
from watcher.http.tokens import COOKIE, CSRF_HEADER, Tokens

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_LOGIN_HINT = """<!doctype html><meta charset="utf-8"><meta name="viewport"
content="width=device-width"><title>watcher: log in</title><body style="font-family:sans-serif">
<h1>watcher</h1><p>{why} Open the link <code>watcher run --listen</code> printed when it
started, or <code>/?token=</code> followed by the token in the file it named.</p></body>"""


class Guard:
    """The checks above, around the application `app`."""

    def __init__(self, app: App, tokens: Tokens, *, max_body: int, secure: bool,
                 read_only: bool = False) -> None:
        self.app, self.tokens, self.max_body, self.secure = app, tokens, max_body, secure
        self.read_only = read_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a refused request here (too big, no token, a write when read-only)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = self._refusal(scope)
        if response is None:
            body = await _read(receive, self.max_body)
            if body is None:
                response = error_response(413, "body_too_large",
                                          f"the body is over {self.max_body:,} bytes")
        if response is not None:
            await response(scope, receive, _hardened(send))
            return
        await self.app(scope, _replay(body), _hardened(send))

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > self.max_body:
            return error_response(413, "body_too_large",
                                  f"the body is over {self.max_body:,} bytes")
        method, path = scope["method"], scope["path"]
        given = parse_qs(scope.get("query_string", b"").decode(errors="replace")).get("token")
        if method == "GET" and path == "/" and given:
            return self._login(given[0])
        bearer = self.tokens.bearer_ok(headers.get("authorization"))
        cookie = self.tokens.cookie_ok(cookie_parser(headers.get("cookie", "")).get(COOKIE))
        if not bearer and not cookie:
            if path == "/" and method in SAFE:
                return HTMLResponse(_LOGIN_HINT.format(why="This page needs the token."), 401)
            return error_response(401, "unauthorized", "a token is needed: send "
                                  "'Authorization: Bearer <token>' (the token is in the file "
                                  "`watcher run --listen` named at start)",
                                  headers={"WWW-Authenticate": "Bearer"})
        if method not in SAFE and self.read_only:
            return error_response(403, "read_only", "this is `watcher serve`, which only "
                                  "shows: submit, cancel and silence through `watcher run "
                                  "--listen` or the command line")
        if method in SAFE or bearer:
            return None
        if not self.tokens.csrf_ok(headers.get(CSRF_HEADER)):
            return error_response(403, "csrf", "a write with the session cookie needs the "
                                  "page's X-CSRF-Token header")
        origin = headers.get("origin")
        scheme = "https" if self.secure else "http"
        if origin is not None and origin != f"{scheme}://{headers.get('host', '')}":
            return error_response(403, "csrf", f"a write from another origin ({origin}) is "
                                  "refused")
        return None

    def _login(self, given: str) -> Response:
        if not self.tokens.log_in(given):
            return HTMLResponse(_LOGIN_HINT.format(
                why="That link was used already, or its token is not this watcher's."), 401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, self.tokens.cookie_value, httponly=True, samesite="strict",
                            secure=self.secure, path="/")
        return response


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes `limit` (a chunked body has no length)."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _hardened(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("cache-control", "no-store")
            headers.setdefault("x-content-type-options", "nosniff")
            headers.setdefault("x-frame-options", "DENY")
            headers.setdefault("referrer-policy", "no-referrer")
        await send(message)

    return wrapped
