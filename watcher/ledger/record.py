"""Recording what an action did: done, try again later, or dead.

Only the worker that still holds an intent's lease may record it. If its lease ran out and
another worker claimed the intent, the late result is refused: the new holder's run counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from watcher.actions.base import Outcome
from watcher.ledger.policy import RetryPolicy
from watcher.store.db import Store
from watcher.store.models import DEAD, DONE, PENDING, RUNNING, Intent


def record(
    store: Store,
    intent_id: int,
    outcome: Outcome,
    *,
    owner: str,
    now: datetime,
    policy: RetryPolicy,
) -> Intent | None:
    """Apply `outcome` to the intent; return it as recorded, or None if `owner` lost the lease.

    Success stores the detail and facts. A retryable failure waits `policy.delay(attempts)`,
    until `policy.max_attempts` attempts were made; a permanent failure is dead at once.
    """
    with store.session() as session:
        stmt = select(Intent).where(Intent.id == intent_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        intent = session.exec(stmt).one_or_none()
        if intent is None or intent.status != RUNNING or intent.lease_owner != owner:
            return None
        _apply(intent, outcome, now, policy)
        intent.lease_owner = intent.lease_until = None
        intent.updated_at = now
    return intent


def _apply(intent: Intent, outcome: Outcome, now: datetime, policy: RetryPolicy) -> None:
    if outcome.ok:
        intent.status, intent.last_error = DONE, None
        intent.result = _result(outcome)
    elif outcome.retryable and not policy.gives_up(intent.attempts):
        intent.status, intent.last_error = PENDING, outcome.detail
        intent.next_attempt_at = now + policy.delay(intent.attempts)
    else:
        intent.status = DEAD
        intent.result = _result(outcome)
        intent.last_error = (
            f"gave up after {intent.attempts} attempts: {outcome.detail}"
            if outcome.retryable
            else outcome.detail
        )


def _result(outcome: Outcome) -> dict[str, Any]:
    return {"ok": outcome.ok, "detail": outcome.detail, "facts": dict(outcome.facts)}


def dead_intents(store: Store, *, limit: int | None = None) -> list[Intent]:
    """Intents that will not run again because they failed; oldest first, for `status`."""
    with store.session(write=False) as session:
        stmt = select(Intent).where(Intent.status == DEAD).order_by(col(Intent.updated_at))
        return list(session.exec(stmt.limit(limit)))
