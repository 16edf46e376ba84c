"""One contract over every source: a poll never raises and always returns an observation of
its own name, and when its command or HTTP endpoint is missing, fails, hangs or answers
garbage, that observation says "unknown" (a failed poll, or every subject unreadable), never
"nothing there". PBS runs the simulator's shims (stopped: an unreachable server) or broken
executables; Globus runs the real SDK over HTTP against a local server that misbehaves."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import globus_sdk
import pytest
from globus_sdk.transport import RequestsTransport, RetryConfig

from watcher.globus.errors import CredentialsExpired
from watcher.pbs.commands import PbsCommands
from watcher.sim.pbs.testing import PbsSim
from watcher.sources.base import Observation, Source
from watcher.sources.globus import GlobusEndpointSource, GlobusSource
from watcher.sources.pbs import PbsSource
from watcher.sources.pbs_select import SelectPbsSource
from watcher.sources.quota import QuotaSource, QuotaTarget

TIMEOUT = 0.5  # seconds a hanging command or server is given
GARBAGE = b'\x00\xff{"Jobs": [not json at all\n<html>502</html>\n\x1b[2J'
SCRIPTS = {
    "garbage": '#!/bin/sh\ncat "$(dirname "$0")/garbage.out"\nexit 0\n',
    "error": '#!/bin/sh\necho "qstat: cannot connect to server pbs (errno=111)" >&2\nexit 2\n',
    "hang": "#!/bin/sh\nexec sleep 30\n",
}
COMMANDS = ("qstat", "qselect", "lfs", "usage")
PBS_KINDS = ["pbs", "pbs-select"]
GLOBUS_KINDS = ["globus", "globus-endpoints"]


def _bin_dir(tmp_path: Path, fault: str) -> Path:
    """A directory where every command the sources run behaves as `fault` says."""
    bin_dir = tmp_path / f"bin-{fault}"
    bin_dir.mkdir()
    (bin_dir / "garbage.out").write_bytes(GARBAGE)
    if fault in SCRIPTS:
        for name in COMMANDS:
            script = bin_dir / name
            script.write_text(SCRIPTS[fault])
            script.chmod(0o755)
    return bin_dir  # "missing": nothing in it


def _pbs(kind: str, commands: PbsCommands) -> Source:
    if kind == "pbs":
        return PbsSource(commands, watch="all")
    return SelectPbsSource(commands, watch="all")


def _poll(source: Source) -> Observation:
    obs = asyncio.run(source.poll())
    assert isinstance(obs, Observation) and obs.source == source.name
    return obs


def _unknown(obs: Observation) -> bool:
    """A failed poll, or one that read nothing and says so: never an empty answer."""
    return (not obs.ok and bool(obs.error)) or (obs.ok and not obs.subjects
                                                and bool(obs.unreadable))


@pytest.mark.parametrize("fault", ["missing", "garbage", "error", "hang"])
@pytest.mark.parametrize("kind", PBS_KINDS)
def test_a_pbs_source_with_broken_commands_says_unknown(kind: str, fault: str,
                                                        tmp_path: Path) -> None:
    commands = PbsCommands(_bin_dir(tmp_path, fault), timeout=TIMEOUT)
    assert _unknown(_poll(_pbs(kind, commands)))


@pytest.mark.parametrize("kind", PBS_KINDS)
def test_a_pbs_source_with_the_server_down_says_unknown(kind: str, tmp_path: Path) -> None:
    with PbsSim(tmp_path / "pbs", nodes=1) as sim:
        sim.qsub("sleep 60\n", "-h")
        source = _pbs(kind, sim.commands)
        assert _poll(source).ok
        sim.stop()
        assert _unknown(_poll(source))


@pytest.mark.parametrize("fault", ["missing", "garbage", "error", "hang"])
def test_the_quota_source_with_broken_commands_says_unknown(fault: str, tmp_path: Path
                                                            ) -> None:
    bin_dir = _bin_dir(tmp_path, fault)
    source = QuotaSource([QuotaTarget(path=str(tmp_path), kind="lfs",
                                      argv=[str(bin_dir / "lfs"), "quota", str(tmp_path)]),
                          QuotaTarget(path=str(tmp_path / "b"), kind="command",
                                      argv=[str(bin_dir / "usage")])], timeout=TIMEOUT)
    assert _unknown(_poll(source))


def test_the_quota_source_on_a_missing_path_says_unknown(tmp_path: Path) -> None:
    assert _unknown(_poll(QuotaSource([QuotaTarget(path=str(tmp_path / "gone"))])))


class _Misbehaving(BaseHTTPRequestHandler):
    """Answers every request the way the server's `mode` says."""

    def do_GET(self) -> None:
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "hang":
            self.server.release.wait(10)  # type: ignore[attr-defined]
            return
        status, body, ctype = {
            "garbage": (200, GARBAGE, "application/json"),
            "html": (200, b"<html><body>maintenance</body></html>", "text/html"),
            "json-list": (200, b"[1, 2, 3]", "application/json"),
            "error": (502, b"<html>Bad Gateway</html>", "text/html"),
        }[mode]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    server.daemon_threads = True
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def _client(url: str) -> globus_sdk.TransferClient:
    return globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer("not-a-real-token"), base_url=url,
        transport=RequestsTransport(http_timeout=TIMEOUT),
        retry_config=RetryConfig(max_retries=0))


def _globus(kind: str, factory: Callable[[], globus_sdk.TransferClient]) -> Source:
    if kind == "globus":
        return GlobusSource(factory, lambda: ["5f1c2c8e-0000-4000-8000-000000000001"])
    return GlobusEndpointSource(factory, lambda: {"5f1c2c8e-0000-4000-8000-0000000000e1"},
                                interval=0.0)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", ["garbage", "html", "json-list", "error", "hang"])
@pytest.mark.parametrize("kind", GLOBUS_KINDS)
def test_a_globus_source_against_a_misbehaving_server_says_unknown(
        kind: str, mode: str, http: ThreadingHTTPServer) -> None:
    http.mode = mode  # type: ignore[attr-defined]
    client = _client(f"http://127.0.0.1:{http.server_address[1]}/v0.10/")
    obs = _poll(_globus(kind, lambda: client))
    assert _unknown(obs)
    if mode in ("garbage", "html", "json-list"):  # a 200 that is not the document asked for
        assert "not a JSON object" in obs.error or "DATA list" in obs.error, obs.error


@pytest.mark.parametrize("kind", GLOBUS_KINDS)
def test_a_globus_source_with_nothing_listening_says_unknown(kind: str) -> None:
    client = _client(f"http://127.0.0.1:{_closed_port()}/v0.10/")
    assert _unknown(_poll(_globus(kind, lambda: client)))


@pytest.mark.parametrize("kind", GLOBUS_KINDS)
def test_a_globus_source_with_dead_credentials_says_unknown(kind: str) -> None:
    def expired() -> globus_sdk.TransferClient:
        raise CredentialsExpired("the stored refresh token was refused")

    obs = _poll(_globus(kind, expired))
    assert _unknown(obs) and obs.detail.get("credentials") == "expired"
