"""`watcher sim globus`: a real background daemon, driven through the CLI and the SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import globus_sdk
import pytest
from click.testing import CliRunner

from tests.sim.globus.conftest import eventually, fast_retries
from watcher.cli import cli
from watcher.sim.globus.daemon import running_url, stop_daemon

SRC = "11111111-1111-1111-1111-111111111111"
DST = "22222222-2222-2222-2222-222222222222"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["sim", "globus", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    yield home
    stop_daemon(home)


def test_daemon_lifecycle_keeps_tasks(home: Path, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/data.bin").write_bytes(b"d" * 300_000)
    run("endpoint", "add", SRC, str(tmp_path / "src"), "--home", str(home))
    run("endpoint", "add", DST, str(tmp_path / "dst"), "--home", str(home), "--name", "scratch")
    assert "scratch" in run("endpoint", "list", "--home", str(home))
    exports = run("start", "--home", str(home), "--bandwidth", "100000")
    url = running_url(home)
    assert url and f"export GLOBUS_SDK_SERVICE_URL_TRANSFER={url}" in exports
    assert (home / "url").read_text().strip() == url

    issued = json.loads(run("tokens", "alice", "--home", str(home)))
    auth = globus_sdk.NativeAppAuthClient(issued["client_id"], base_url=url)
    authorizer = globus_sdk.RefreshTokenAuthorizer(
        issued["refresh_token"], auth, access_token=issued["access_token"],
        expires_at=issued["expires_at_seconds"])
    tc = globus_sdk.TransferClient(authorizer=authorizer, base_url=url)
    fast_retries(tc)
    data = globus_sdk.TransferData(SRC, DST)
    data.add_item("/data.bin", "/data.bin")
    task_id = tc.submit_transfer(data)["task_id"]
    run("fault", "pause-endpoint", DST, "--home", str(home))
    assert "ACTIVE" in run("status", "--home", str(home))
    run("stop", "--home", str(home))
    assert running_url(home) is None

    run("start", "--home", str(home), "--bandwidth", "1e9")
    url = running_url(home)
    tc = globus_sdk.TransferClient(authorizer=authorizer, base_url=url)
    doc = tc.get_task(task_id)
    assert (doc["status"], doc["is_paused"]) == ("ACTIVE", True)
    run("fault", "reset", "--home", str(home))
    eventually(lambda: tc.get_task(task_id)["status"] != "ACTIVE")
    assert (tmp_path / "dst/data.bin").read_bytes() == b"d" * 300_000
    state = json.loads(run("status", "--json", "--home", str(home)))
    assert state["tasks"] == {"SUCCEEDED": 1}


def test_fault_commands_reach_the_daemon(home: Path, tmp_path: Path) -> None:
    run("start", "--home", str(home))
    for args in (["flaky", "--status", "429", "--share", "0.5", "--count", "3"],
                 ["quota", DST, "1000"], ["expire-credentials", "alice"],
                 ["token-lifetime", "5"], ["bandwidth", "1000"]):
        assert run("fault", *args, "--home", str(home)).strip() == "ok"
    state = json.loads(run("status", "--json", "--home", str(home)))
    assert state["faults"]["quotas"] == {DST: 1000}
    assert state["faults"]["flaky"]["status"] == 429
    assert (state["token_lifetime"], state["bandwidth"]) == (5, 1000)
    assert run("fault", "quota", DST, "--home", str(home)).strip() == "ok"
    assert run("fault", "revoke-refresh-tokens", "alice", "--home", str(home)).strip() == "0"


def test_errors_are_one_line(home: Path) -> None:
    result = CliRunner().invoke(cli, ["sim", "globus", "status", "--home", str(home)])
    assert result.exit_code == 1 and "not running" in result.output
    assert "not running" in run("stop", "--home", str(home))
    run("start", "--home", str(home))
    again = CliRunner().invoke(cli, ["sim", "globus", "start", "--home", str(home)])
    assert again.exit_code == 1 and "already running" in again.output
