"""The outbox: action intents written with the event that caused them, then run exactly once.

`enqueue` runs inside the engine's transaction, so an event, its firing and its intents are
committed together or not at all. Each intent carries an idempotency key; enqueueing a key that
is already there does nothing, so replaying an event after a crash adds no second `qdel`.
Workers `claim` due intents under a time-limited lease and `record` the outcome only while they
still hold it; a worker that dies leaves a lease that runs out, and another worker takes over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from watcher.ledger.claim import claim
from watcher.ledger.policy import RetryPolicy
from watcher.ledger.record import dead_intents, record
from watcher.store.models import Intent, utcnow

__all__ = ["Intent", "NewIntent", "RetryPolicy", "claim", "dead_intents", "enqueue", "record"]


@dataclass(frozen=True)
class NewIntent:
    """An intent to enqueue. `params` are already rendered; `after_key` names the previous step
    of the same firing; `not_before` delays the first attempt (default: due at once)."""

    key: str
    rule: str
    action_type: str
    params: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    after_key: str | None = None
    firing_id: int | None = None
    not_before: datetime | None = None


def enqueue(
    session: Session, intents: Sequence[NewIntent], *, now: datetime | None = None
) -> list[Intent]:
    """Insert the intents in the caller's transaction; return those that were new.

    `INSERT ... ON CONFLICT DO NOTHING` rather than a look-up first: two instances enqueueing
    the same key at once must not fail each other's transaction.
    """
    now = now or utcnow()
    rows, seen = [], set()
    for new in intents:
        if new.key in seen:
            continue
        seen.add(new.key)
        rows.append(_row(new, now))
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(Intent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Intent.id)
    )
    ids = list(session.execute(stmt).scalars())
    if not ids:
        return []
    return list(session.exec(select(Intent).where(Intent.id.in_(ids)).order_by(Intent.id)))


def _row(new: NewIntent, now: datetime) -> dict[str, Any]:
    intent = Intent(
        key=new.key,
        firing_id=new.firing_id,
        rule=new.rule,
        action_type=new.action_type,
        step=new.step,
        params=dict(new.params),
        after_key=new.after_key,
        next_attempt_at=new.not_before or now,
        created_at=now,
        updated_at=now,
    )
    return intent.model_dump(exclude={"id"})
