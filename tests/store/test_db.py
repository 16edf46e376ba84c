"""Opening the store: files, SQLite settings, transactions, both database kinds."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from watcher.store.db import Store, open_store, sqlite_path
from watcher.store.models import Firing, Snapshot

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _pragma(store: Store, name: str) -> object:
    with store.session(write=False) as session:
        return session.connection().exec_driver_sql(f"PRAGMA {name}").scalar()


def test_open_creates_the_directory_and_sets_sqlite_up(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'watcher.db'}")
    assert (tmp_path / "a" / "b" / "watcher.db").is_file()
    assert _pragma(store, "journal_mode") == "wal"
    assert _pragma(store, "busy_timeout") == 30_000
    assert _pragma(store, "foreign_keys") == 1
    store.close()


def test_a_write_session_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "watcher.db"
    store = open_store(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with store.session() as session:
        session.connection()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    with store.session(write=False) as session:
        session.connection()
        other.execute("BEGIN IMMEDIATE")  # a reader does not block a writer
        other.execute("ROLLBACK")
    other.close()
    store.close()


def test_session_commits_on_success_and_rolls_back_on_error(store: Store) -> None:
    with store.session() as session:
        session.add(Snapshot(source="pbs", subject="1.srv", attrs={"state": "Q"}, seen_at=NOW))
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(Snapshot(source="pbs", subject="2.srv", attrs={}, seen_at=NOW))
        session.flush()
        raise RuntimeError("boom")
    with store.session(write=False) as session:
        rows = session.exec(select(Snapshot)).all()
    assert [(r.subject, r.attrs) for r in rows] == [("1.srv", {"state": "Q"})]


def test_rows_stay_readable_after_their_session(store: Store) -> None:
    with store.session() as session:
        snap = Snapshot(source="pbs", subject="1.srv", attrs={"state": "R"}, seen_at=NOW)
        session.add(snap)
    assert snap.attrs == {"state": "R"}


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(Firing(rule="r", subject="1.srv", event_id=999, at=NOW))


def test_in_memory_sqlite_is_one_database_for_all_sessions() -> None:
    store = open_store("sqlite://")
    with store.session() as session:
        session.add(Snapshot(source="pbs", subject="1.srv", seen_at=NOW))
    with store.session(write=False) as session:
        assert session.get(Snapshot, ("pbs", "1.srv")) is not None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////var/lib/w.db", Path("/var/lib/w.db")),
        ("sqlite:///rel/w.db", Path("rel/w.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://u:p@db/watcher", None),
    ],
)
def test_sqlite_path(url: str, path: Path | None) -> None:
    assert sqlite_path(url) == path
