"""A CLI runner that never reads the user's own config, rules or database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # No real config file or database of the user's is ever read.
    monkeypatch.setenv("WATCHER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WATCHER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WATCHER_DB", raising=False)
    return CliRunner(env={"COLUMNS": "200"})
