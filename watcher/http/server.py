"""Serving the HTTP face inside `watcher run`: uvicorn as one task of the service's loop.

The socket is bound before the service starts, so a port in use or a refused address is one
clear error at start, not a traceback later; uvicorn then serves on it without touching the
signal handlers (`watcher run` owns SIGTERM and Ctrl-C, and stops the face first, letting the
requests in flight finish, before it hands back what it holds).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator

import uvicorn

from watcher.config import HttpSettings, split_listen
from watcher.http.app import build_app
from watcher.http.context import HttpContext


class ListenRefused(Exception):
    """The face cannot serve as asked (the message says why and what to do)."""


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address; a host name is not (it may resolve anywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_listen(http: HttpSettings, listen: str, *, insecure: bool = False) -> tuple[str, int]:
    """Where to bind; refuses a non-loopback address without TLS or an explicit flag."""
    try:
        host, port = split_listen(listen)
    except ValueError as exc:
        raise ListenRefused(f"--listen: {exc}") from exc
    if not is_loopback(host) and http.tls_cert is None and not (insecure or http.allow_insecure):
        raise ListenRefused(
            f"refusing to serve {listen} without TLS: other machines could read the token off "
            "the network. Set http.tls_cert and http.tls_key in config.yaml, or pass "
            "--insecure-listen (http.allow_insecure: true) on a network you trust; "
            "127.0.0.1 needs neither")
    return host, port


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound now so a taken port fails at start (ListenRefused)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ListenRefused(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


class _Server(uvicorn.Server):
    """uvicorn's server, minus its signal handlers: the service's own stop it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpFace:
    """The face on a bound socket: `serve()` until `stop()`."""

    def __init__(self, ctx: HttpContext, sock: socket.socket, *, read_only: bool = False
                 ) -> None:
        http = ctx.settings.http
        secure = http.tls_cert is not None
        config = uvicorn.Config(
            build_app(ctx, secure=secure, read_only=read_only), lifespan="off", log_config=None,
            log_level="warning", access_log=False, server_header=False, proxy_headers=False,
            timeout_graceful_shutdown=10,
            ssl_certfile=str(http.tls_cert) if http.tls_cert else None,
            ssl_keyfile=str(http.tls_key) if http.tls_key else None)
        self._server = _Server(config)
        self._sock = sock
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{'https' if secure else 'http'}://{shown}:{port}/"

    async def serve(self) -> None:
        """Serve until `stop`; the socket is closed on the way out."""
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            self._sock.close()

    def stop(self) -> None:
        """Ask the server to finish its requests and return from `serve`."""
        self._server.should_exit = True
