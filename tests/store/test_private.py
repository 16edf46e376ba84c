"""What watcher creates is private at any umask; a store others can write is refused (issue 11,
finding 5)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from globus_sdk.token_storage import TokenStorageData

from watcher.globus.tokens import TokenFile
from watcher.private import NotPrivate, private_dir, refuse_shared
from watcher.store.db import open_store


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_watcher_run_at_umask_000_makes_everything_private(tmp_path: Path) -> None:
    data = tmp_path / "home" / ".local" / "share" / "watcher"
    env = {**os.environ, "WATCHER_DATA_DIR": str(data),
           "WATCHER_CONFIG_DIR": str(tmp_path / "config")}
    (tmp_path / "rules").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "import os, sys; os.umask(0); from watcher.cli import main; "
                               "sys.argv = ['watcher', 'run', '--once', '--rules', sys.argv[1], "
                               "'--pbs-bin', sys.argv[2]]; main()",
         str(tmp_path / "rules"), str(tmp_path / "no-pbs")],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [mode(p) for p in (tmp_path / "home", data.parent.parent, data.parent, data)] == [
        0o700] * 4
    assert mode(data / "watcher.db") == 0o600
    assert mode(data / "watcher.db.lock") == 0o600
    assert all(mode(p) == 0o600 for p in data.glob("watcher.db*"))


def test_a_store_others_can_write_is_refused_with_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    open_store(f"sqlite:///{db}").close()
    db.chmod(0o666)
    env = {**os.environ, "WATCHER_CONFIG_DIR": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-m", "watcher", "run", "--once", "--db",
                             f"sqlite:///{db}", "--rules", str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"can be written by other users (mode -rw-rw-rw-); make it yours alone with: " \
           f"chmod 600 {db}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_store_in_a_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    open_store(f"sqlite:///{shared / 'w.db'}").close()
    shared.chmod(0o777)
    with pytest.raises(NotPrivate, match=f"fix it with: chmod 700 {shared}"):
        open_store(f"sqlite:///{shared / 'w.db'}")
    shared.chmod(0o1777)  # sticky, like /tmp: others cannot replace it
    refuse_shared(shared / "w.db")


def test_token_store_and_directories_at_umask_000(tmp_path: Path, umask_000: None) -> None:
    private_dir(tmp_path / "a" / "b")
    assert (mode(tmp_path / "a"), mode(tmp_path / "a" / "b")) == (0o700, 0o700)
    tokens = TokenFile(tmp_path / "data" / "tokens.db")
    tokens.store_data(TokenStorageData("transfer.api.globus.org", None, "s", "at", "rt",
                                       2_000_000_000, "Bearer"))
    assert mode(tmp_path / "data") == 0o700
    assert all(mode(p) == 0o600 for p in (tmp_path / "data").iterdir())
