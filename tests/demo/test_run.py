"""`run_demo` on one scenario: a broken expectation fails the demo and says why; `--keep`
leaves the files and nothing running; the user's own settings are never touched."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from tests.demo._procs import leftovers
from watcher.demo import checks as c
from watcher.demo.run import run_demo
from watcher.demo.scenarios import SCENARIOS


def test_a_broken_expectation_fails_the_demo_and_the_world_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "my-watcher"
    for name in ("WATCHER_CONFIG_DIR", "WATCHER_DATA_DIR"):
        monkeypatch.setenv(name, str(mine))
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_TRANSFER", "https://transfer.example.org/")
    a = SCENARIOS[0]
    wrong = replace(a, checks=(*a.checks, c.emails(": done", ": done")))
    out = io.StringIO()
    result = run_demo(Console(file=out, width=200), keep=tmp_path / "kept", timeout=30,
                      scenarios=[wrong])
    [outcome] = result.outcomes
    assert result.exit_code == 1
    assert outcome.problems == (
        f"expected 2 emails: done then done, but got 1: [watcher] {outcome.workflow} "
        "(A-happy-path): done",)
    printed = out.getvalue()
    assert f"A  {outcome.workflow}  workflow: done: every step succeeded" in printed
    assert f"A  {outcome.workflow}  cleanup:" not in printed  # no cleanup job: nothing failed
    kept = tmp_path / "kept"
    assert (kept / "lab" / "A" / "results" / "result.txt").is_file()
    assert len(list((kept / "mail").glob("*.eml"))) == 1
    assert (kept / "watcher" / "watcher.db").is_file()
    assert leftovers(kept) == []
    assert not mine.exists()  # never used: the demo had its own settings and directories
    assert os.environ["WATCHER_DATA_DIR"] == str(mine)
    assert os.environ["GLOBUS_SDK_SERVICE_URL_TRANSFER"] == "https://transfer.example.org/"
