"""Telling rules about dead intents: one `action_failed` event for each, exactly once.

An intent dies in two places: the runner records a permanent failure (or the last retry), and
the engine enqueues an intent whose template failed (born dead). Neither transaction can also
run the rules on the failure, so telling is a step of its own: find the dead intents not yet
told, and in one transaction record their events, run the rules on them, and mark each told (a
fact `action_failed:<key>`). A crash before that commit tells them on the next pass, after a
restart too; after it, never again.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from watcher.events import ACTION_FAILED, CHANGED, Event
from watcher.store.models import DEAD, Fact, Firing, Intent

TOLD = "action_failed:"
BATCH = 100


def _untold() -> Select[tuple[Intent, str | None]]:
    return (select(Intent, Firing.subject)
            .outerjoin(Fact, col(Fact.key) == TOLD + col(Intent.key))
            .outerjoin(Firing, col(Firing.id) == col(Intent.firing_id))
            .where(col(Intent.status) == DEAD, col(Fact.key).is_(None)))


def any_untold(session: Session) -> bool:
    """A cheap look, in a read transaction, before taking the write lock."""
    return session.exec(_untold().limit(1)).first() is not None


def tell(session: Session, at: datetime) -> list[Event]:
    """The events of up to `BATCH` untold dead intents, marked told in `session`."""
    rows = session.exec(_untold().order_by(col(Intent.id)).limit(BATCH)).all()
    for intent, _ in rows:
        session.add(Fact(key=TOLD + intent.key, value={"at": at.isoformat()}))
    return [failed_event(intent, subject, at) for intent, subject in rows]


def failed_event(intent: Intent, subject: str | None, at: datetime) -> Event:
    """The `action_failed` event of a dead intent; its subject is the firing's subject."""
    error = intent.last_error or (intent.result or {}).get("detail")
    data = {"rule": intent.rule, "action": intent.action_type, "step": intent.step,
            "key": intent.key, "attempts": intent.attempts, "error": error}
    return Event(ACTION_FAILED, subject or intent.key, at, CHANGED, None, data, data)
