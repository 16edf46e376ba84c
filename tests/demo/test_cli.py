"""`watcher demo` as a new user runs it: a real process, everything in a temporary directory,
exit 0 only if every scenario behaved, nothing left running or lying around afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from tests.demo._procs import leftovers
from watcher.cli import cli


def test_the_demo_runs_every_scenario_and_leaves_nothing_behind(tmp_path: Path) -> None:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp)}
    for name in ("WATCHER_CONFIG_DIR", "WATCHER_DATA_DIR", "WATCHER_DB"):
        env.pop(name, None)
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "watcher", "demo", "--json"], env=env,
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    took = time.monotonic() - began
    print(f"\nwatcher demo: {took:.1f} s wall\n{done.stderr}")
    report = json.loads(done.stdout)
    assert [(s["scenario"], s["problems"]) for s in report["scenarios"]] == [
        (letter, []) for letter in "ABCDEFGH"]
    assert done.returncode == 0 and report["ok"]
    assert len(report["emails"]) == 9  # C has two: re-authenticate, then done
    assert "✉ to you@example.org: [watcher] wf-" in done.stderr  # the stream went to stderr
    assert leftovers(tmp_path) == []
    assert list(tmp.iterdir()) == []  # the demo's directory is gone
    assert list(home.iterdir()) == []  # nothing in ~/.config or ~/.local/share


def test_keep_refuses_a_directory_that_holds_something(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["demo", "--keep", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path} is not empty: give a new or empty directory" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["precious.txt"]


def test_ctrl_c_mid_run_stops_everything_and_removes_the_directory(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp)}
    demo = subprocess.Popen([sys.executable, "-m", "watcher", "demo"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        seen = []
        for line in demo.stdout:  # until a fault is injected: jobs, transfers, mail in flight
            seen.append(line)
            if "⚡" in line:
                break
        assert any("⚡" in line for line in seen), "".join(seen)
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 130
    assert "Interrupted: the simulators are stopped and their files removed." in rest
    assert leftovers(tmp_path) == []
    assert list(tmp.iterdir()) == []
