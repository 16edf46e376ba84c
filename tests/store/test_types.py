"""Timestamps and JSON columns read back the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import col, select

from watcher.store.db import Store
from watcher.store.models import EventRecord, Snapshot

PARIS = timezone(timedelta(hours=2))


def _at(hour: int, tz: timezone, minute: int = 0) -> datetime:
    return datetime(2025, 6, 1, hour, minute, tzinfo=tz)


def test_timestamps_come_back_aware_in_utc(store: Store) -> None:
    with store.session() as session:
        session.add(Snapshot(source="pbs", subject="1", seen_at=_at(14, PARIS)))
    with store.session(write=False) as session:
        seen = session.get(Snapshot, ("pbs", "1")).seen_at
    assert seen == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert seen.utcoffset() == timedelta(0)


def test_timestamps_compare_across_zones_in_queries(store: Store) -> None:
    with store.session() as session:
        session.add(Snapshot(source="pbs", subject="early", seen_at=_at(13, PARIS)))
        session.add(Snapshot(source="pbs", subject="late", seen_at=_at(12, UTC, minute=30)))
    with store.session(write=False) as session:
        cutoff = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
        found = session.exec(select(Snapshot.subject).where(col(Snapshot.seen_at) <= cutoff)).all()
    assert found == ["early"]


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"), store.session() as session:
        session.add(Snapshot(source="pbs", subject="1", seen_at=datetime(2025, 6, 1)))


def test_missing_json_is_sql_null_and_events_round_trip(store: Store) -> None:
    from watcher.events import APPEARED, PBS_JOB, Event

    event = Event(PBS_JOB, "12.sim", datetime(2025, 6, 1, tzinfo=UTC), APPEARED,
                  None, {"state": "Q", "variables": {"A": "1"}}, {"source": "pbs"})
    with store.session() as session:
        session.add(EventRecord.from_event(event))
    with store.session(write=False) as session:
        row = session.exec(select(EventRecord).where(col(EventRecord.previous).is_(None))).one()
    assert row.to_event() == event
