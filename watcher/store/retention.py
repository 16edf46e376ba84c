"""Forgetting old history, so a watcher that runs for months keeps a small store.

Every event is recorded with the subject's attributes before and after (a few kB), whether a
rule fired or not: a user with a thousand jobs a day adds megabytes a day. What goes, once older
than the retention (`store.retention`, 30 days by default):

- a firing and its intents, when every intent of it is done or skipped and none changed since
  the cutoff (a failed or dead intent stays, with its firing: a person may still need it);
- an intent of no firing on the same terms;
- an event no remaining firing points at, unless a `for:` window is open on its subject (the
  window's start and its subject's later events are what `Engine.tick` reads), and never the
  newest event: SQLite gives a new row the highest id plus one, so deleting the newest rows
  would hand their ids out again, and an id names an event in every idempotency key.

What stays whatever its age is the present, not history: snapshots, rule state, source health,
facts (lineage, effect journals, the watch list), workflows and their step logs. Idempotency
does not need old intents: a key names an event, and an event is never seen twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from watcher.store.models import DONE, SKIPPED, EventRecord, Firing, Intent, RuleState

PRUNABLE = (DONE, SKIPPED)
_BATCH = 500  # ids per DELETE: well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Pruned:
    """How many rows one pass of retention deleted, by table."""

    events: int = 0
    firings: int = 0
    intents: int = 0

    def __bool__(self) -> bool:
        return bool(self.events or self.firings or self.intents)


def prune(session: Session, *, before: datetime) -> Pruned:
    """Delete the history older than `before` that nothing needs any more (in `session`)."""
    kept_firings = select(Intent.firing_id).where(
        col(Intent.firing_id).is_not(None),
        or_(col(Intent.status).not_in(PRUNABLE), col(Intent.updated_at) >= before))
    firings = session.exec(select(Firing.id).where(
        col(Firing.at) < before, col(Firing.id).not_in(kept_firings))).all()
    intents = _delete(session, Intent, col(Intent.firing_id), firings)
    intents += _delete(session, Intent, col(Intent.id), session.exec(select(Intent.id).where(
        col(Intent.firing_id).is_(None), col(Intent.status).in_(PRUNABLE),
        col(Intent.updated_at) < before)).all())
    removed_firings = _delete(session, Firing, col(Firing.id), firings)
    cited = select(Firing.event_id).where(col(Firing.event_id).is_not(None))
    windows = select(RuleState.subject).where(col(RuleState.pending_since).is_not(None))
    opened = select(RuleState.pending_event_id).where(col(RuleState.pending_event_id).is_not(None))
    events = session.exec(select(EventRecord.id).where(
        col(EventRecord.at) < before, col(EventRecord.id).not_in(cited),
        col(EventRecord.id).not_in(opened), col(EventRecord.subject).not_in(windows),
        col(EventRecord.id) < select(func.max(EventRecord.id)).scalar_subquery())).all()
    return Pruned(_delete(session, EventRecord, col(EventRecord.id), events),
                  removed_firings, intents)


def _delete(session: Session, table: Any, column: Any, ids: Sequence[int | None]) -> int:
    count = 0
    for batch in _batches(i for i in ids if i is not None):
        count += session.execute(delete(table).where(column.in_(batch))).rowcount
    return count


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for value in ids:
        batch.append(value)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
