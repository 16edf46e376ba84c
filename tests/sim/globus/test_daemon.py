"""The daemon's process management (the happy path runs in test_cli.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from watcher.sim.globus.daemon import DaemonError, running_url, start_daemon, stop_daemon


def test_a_daemon_that_cannot_bind_reports_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(DaemonError, match=r"emulator\.log"):
            start_daemon(tmp_path, port=taken.getsockname()[1])
    assert "Address already in use" in (tmp_path / "emulator.log").read_text()
    assert running_url(tmp_path) is None


def test_stale_pid_files_mean_not_running(tmp_path: Path) -> None:
    (tmp_path / "pid").write_text("999999999\n")
    (tmp_path / "url").write_text("http://127.0.0.1:9/\n")
    assert running_url(tmp_path) is None
    assert stop_daemon(tmp_path) is False
