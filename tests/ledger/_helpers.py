"""Small builders shared by the ledger tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from watcher.ledger.outbox import NewIntent, enqueue
from watcher.store.db import Store
from watcher.store.models import Intent

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def add(store: Store, *intents: NewIntent, now: datetime = T0) -> None:
    with store.session() as session:
        enqueue(session, intents, now=now)


def chain(prefix: str, *actions: str, rule: str = "r") -> list[NewIntent]:
    """The steps of one firing: each runs after the one before."""
    keys = [f"{prefix}/{n}" for n in range(len(actions))]
    return [
        NewIntent(key, rule, action, {"job": "1.srv"}, step=n,
                  after_key=keys[n - 1] if n else None)
        for n, (key, action) in enumerate(zip(keys, actions, strict=True))
    ]


def intent(store: Store, key: str) -> Intent:
    with store.session(write=False) as session:
        return session.exec(select(Intent).where(Intent.key == key)).one()


def statuses(store: Store) -> dict[str, str]:
    with store.session(write=False) as session:
        return {i.key: i.status for i in session.exec(select(Intent))}


def fire(store: Store, rule: str, subject: str, at: datetime, *, actions: tuple[str, ...],
         previous: dict | None = None, current: dict | None = None,
         reason: str = "entered condition") -> list[str]:
    """Record what the engine records when a rule fires: event, firing, chained intents."""
    from watcher.store.models import EventRecord, Firing

    with store.session() as session:
        event = EventRecord(kind="pbs_job", subject=subject, change="changed", at=at,
                            previous=previous, current=current)
        session.add(event)
        session.flush()
        firing = Firing(rule=rule, subject=subject, event_id=event.id, at=at, reason=reason)
        session.add(firing)
        session.flush()
        steps = chain(f"{rule}:{subject}:{at.isoformat()}", *actions, rule=rule)
        steps = [dataclasses.replace(s, firing_id=firing.id, params={"job": subject})
                 for s in steps]
        enqueue(session, steps, now=at)
    return [s.key for s in steps]
