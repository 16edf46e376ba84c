"""The Globus clients honour the proxy environment (a site's `HTTPS_PROXY`, `NO_PROXY`), read
once per host: a proxy set before the first request to a host is used for every request to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from globus_sdk.transport import RequestsTransport

from watcher.globus.clients import counted


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_a_proxy_in_the_environment_carries_every_request(
        server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = counted(RequestsTransport(), "transfer").session
    for n in range(3):  # the proxy answers for a host that does not exist
        assert session.get(f"http://transfer.invalid/v0.10/task/{n}").json() == {"ok": True}
    assert _Recorder.seen == [f"http://transfer.invalid/v0.10/task/{n}" for n in range(3)]


def test_no_proxy_sends_straight_to_the_host(
        server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = counted(RequestsTransport(), "transfer").session
    url = f"http://127.0.0.1:{server.server_address[1]}/v0.10/task/1"
    assert session.get(url).json() == {"ok": True}
    assert _Recorder.seen == ["/v0.10/task/1"]
