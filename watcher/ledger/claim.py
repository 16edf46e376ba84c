"""Claiming due intents: each intent goes to exactly one worker, under a lease.

On PostgreSQL the candidates are selected `FOR UPDATE SKIP LOCKED`, so instances claiming at the
same moment each get different rows without waiting for one another. On SQLite the whole claim
is one `BEGIN IMMEDIATE` transaction (the store's write session): claimers take turns.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from watcher.store.db import Store
from watcher.store.models import DONE, PENDING, RUNNING, SKIPPED, UNSUCCESSFUL, Intent

log = logging.getLogger(__name__)


def claim(
    store: Store, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Intent]:
    """Lease up to `limit` due intents to `owner` until `now + lease`, and return them.

    Due means pending with `next_attempt_at <= now`, or running with an expired lease (its
    worker died). A step runs only after its predecessor (`after_key`) is done; if the
    predecessor failed for good, the step is skipped instead, with the reason, and so are the
    steps after it. The worker renews the lease while the action runs (its heartbeat,
    `watcher.ledger.takeover.renew`), or a second worker may start it when it runs out.
    """
    claimed: list[Intent] = []
    if not _any_due(store, now):  # the usual idle cycle: no write lock taken
        return claimed
    with store.session() as session:
        while len(claimed) < limit:
            ready, skipped = _select(session, now, limit - len(claimed))
            for intent in ready:
                intent.status, intent.lease_owner = RUNNING, owner
                intent.lease_until, intent.updated_at = now + lease, now
                intent.attempts += 1
                claimed.append(intent)
            for intent, reason in skipped:
                intent.status, intent.last_error, intent.updated_at = SKIPPED, reason, now
                intent.lease_owner = intent.lease_until = None
                log.info("Rule %r step %d (%s) %s", intent.rule, intent.step,
                         intent.action_type, reason)
            session.flush()
            # A skip makes the next step decidable too: look again, only then.
            if not skipped:
                break
    return claimed


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(Intent.status) == PENDING, col(Intent.next_attempt_at) <= now),
        and_(col(Intent.status) == RUNNING, col(Intent.lease_until) < now),
    )


def _any_due(store: Store, now: datetime) -> bool:
    with store.session(write=False) as session:
        return session.exec(select(Intent.id).where(_due(now)).limit(1)).first() is not None


def _select(
    session: Session, now: datetime, limit: int
) -> tuple[list[Intent], list[tuple[Intent, str]]]:
    pred = aliased(Intent)
    due = _due(now)
    decidable = or_(
        col(Intent.after_key).is_(None),
        pred.status.is_(None),  # a predecessor that was never enqueued: skip, do not wait
        pred.status.in_((DONE, *UNSUCCESSFUL)),
    )
    stmt = (
        select(Intent, pred.status)
        .outerjoin(pred, pred.key == Intent.after_key)
        .where(due, decidable)
        .order_by(col(Intent.next_attempt_at), col(Intent.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Intent)
    ready, skipped = [], []
    for intent, pred_status in session.exec(stmt):
        if intent.after_key is None or pred_status == DONE:
            ready.append(intent)
        else:
            state = "not found" if pred_status is None else pred_status
            skipped.append((intent, f"skipped: previous step {intent.after_key!r} is {state}"))
    return ready, skipped
