"""The HTTP side: a stdlib ThreadingHTTPServer on 127.0.0.1 dispatching to route functions.

The stdlib server is enough here: a handful of JSON routes, one process, local clients only,
and no extra dependency for users who just want `watcher sim globus start`. Each API request
is counted under its route template and its client (admin routes are not counted), may be
answered by the flaky-response fault, and otherwise goes to its route function, whose
`ApiError`/`OAuthError` become Globus-shaped error bodies.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from watcher.sim.globus import routes_admin, routes_auth, routes_transfer
from watcher.sim.globus.auth import OAuthError
from watcher.sim.globus.documents import transfer_error
from watcher.sim.globus.emulator import ANONYMOUS, Emulator
from watcher.sim.globus.errors import ApiError
from watcher.sim.globus.routing import Request, Response, Router

log = logging.getLogger(__name__)
ROUTER = Router.merge(routes_transfer.ROUTES, routes_auth.ROUTES, routes_admin.ROUTES)
_INJECTED_CODES = {429: "TooManyRequests", 503: "ServiceUnavailable"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # close idle keep-alive connections so threads do not linger
    # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs add ~40 ms to every keep-alive request
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        emu = self.server.emulator
        route, params = ROUTER.match(self.command, split.path)
        request = Request(self.command, split.path, parse_qs(split.query), self.headers, body,
                          params)
        client = None
        if route is None or route.service != "admin":  # the test's own calls are not counted
            client = emu.client_of(self.headers.get("Authorization"), _form_client(body))
            emu.count(f"{self.command} {route.template if route else '<unmatched>'}", client)
        self._send(self._answer(emu, route, request, client))

    def _answer(self, emu: Emulator, route: Any, request: Request,
                client: str | None) -> Response:
        if route is None:
            return Response(404, transfer_error("ClientError.NotFound",
                                                f"no route {request.method} {request.path}",
                                                request.path))
        with emu.lock:
            rule = emu.faults.flaky_hit(route.service) if route.service != "admin" else None
        if rule is not None:
            emu.count(f"injected {rule.status}", client or ANONYMOUS)
            headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
            return Response(rule.status, transfer_error(
                _INJECTED_CODES.get(rule.status, "InjectedFault"), "Injected by the emulator",
                request.path), headers)
        try:
            return route.handler(emu, request)
        except ApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
            return Response(exc.status, transfer_error(exc.code, exc.message, request.path,
                                                       **exc.extra), headers)
        except OAuthError as exc:
            return Response(exc.status, {"error": exc.error})
        except Exception:  # a bug in the emulator: answer like a server error, keep serving
            log.exception("emulator route %s failed", route.template)
            return Response(500, transfer_error("ServerError.InternalError",
                                                "emulator error", request.path))

    def _send(self, response: Response) -> None:
        if isinstance(response.body, str):
            payload, ctype = response.body.encode(), "text/html; charset=utf-8"
        else:
            payload, ctype = json.dumps(response.body).encode(), "application/json"
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _form_client(body: bytes) -> str | None:
    """client_id of a form-encoded OAuth call (a native app sends no secret)."""
    try:
        values = parse_qs(body.decode("ascii"))
    except UnicodeDecodeError:
        return None
    return (values.get("client_id") or [None])[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator


class EmulatorServer:
    """Serves an `Emulator` on 127.0.0.1 from a background thread."""

    def __init__(self, emulator: Emulator, port: int = 0, host: str = "127.0.0.1") -> None:
        self.emulator = emulator
        self._httpd = _Server((host, port), emulator)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, with the port the OS chose, ending in "/"."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Start the engine and serve HTTP on a daemon thread."""
        self.emulator.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="globus-emulator-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket, then stop the engine (saving its snapshot)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.emulator.stop()
