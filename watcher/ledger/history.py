"""What happened, for `watcher history`: firings with their event and their actions' fate.

`summarize` is pure (an event in a few words, "12.sim Q→R"); `load_history` only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from watcher.events import APPEARED, VANISHED
from watcher.store.db import Store
from watcher.store.models import PENDING, EventRecord, Firing, Intent

# The attribute that best tells what changed, per event kind, most telling first.
_TELLING = {
    "pbs_job": ("state", "substate", "exit_status", "hold_types", "run_count"),
    "globus_task": ("status", "nice_status"),
    "globus_endpoint": ("status", "activated"),
    "quota": ("used_percent",),
}
_SHORT = {"state", "status"}  # shown as bare values: "Q→R", not "state Q→R"


def summarize(kind: str, subject: str, change: str,
              previous: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> str:
    """An event in a few words: `12.sim Q→R`, `12.sim appeared (Q)`, `source_down pbs`."""
    telling = _TELLING.get(kind)
    if telling is None:
        return f"{kind} {subject}"
    if change == VANISHED:
        return f"{subject} vanished"
    if change == APPEARED or previous is None:
        state = (current or {}).get(telling[0])
        return f"{subject} appeared" + (f" ({state})" if state is not None else "")
    current = current or {}
    for name in telling:
        if previous.get(name) != current.get(name):
            label = "" if name in _SHORT else f"{name} "
            text = f"{subject} {label}{previous.get(name)}→{current.get(name)}"
            exit_status = current.get("exit_status")
            if name == "state" and exit_status is not None:
                text += f" (exit {exit_status})"
            return text
    return f"{subject} {change}"


@dataclass(frozen=True)
class ActionLine:
    """One step of a firing and where it stands."""

    step: int
    action: str
    status: str
    attempts: int
    key: str
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class FiringLine:
    """One firing: when, which rule, for what subject, because of what, and its actions."""

    id: int
    at: datetime
    rule: str
    subject: str
    reason: str
    event: str
    actions: list[ActionLine] = field(default_factory=list)


def load_history(store: Store, *, rule: str | None = None, subject: str | None = None,
                 limit: int = 50) -> list[FiringLine]:
    """The `limit` most recent firings (filtered by rule and subject), newest last."""
    stmt = select(Firing, EventRecord).outerjoin(
        EventRecord, col(EventRecord.id) == col(Firing.event_id))
    if rule is not None:
        stmt = stmt.where(Firing.rule == rule)
    if subject is not None:
        stmt = stmt.where(Firing.subject == subject)
    stmt = stmt.order_by(col(Firing.at).desc(), col(Firing.id).desc()).limit(limit)
    with store.session(write=False) as session:
        rows = list(session.exec(stmt))[::-1]
        ids = [firing.id for firing, _ in rows]
        intents = session.exec(select(Intent).where(col(Intent.firing_id).in_(ids))
                               .order_by(col(Intent.step), col(Intent.id))).all()
    steps: dict[int | None, list[ActionLine]] = {}
    for i in intents:
        steps.setdefault(i.firing_id, []).append(ActionLine(
            i.step, i.action_type, i.status, i.attempts, i.key, i.last_error,
            i.next_attempt_at if i.status == PENDING else None, i.result))
    return [_line(firing, event, steps.get(firing.id, [])) for firing, event in rows]


def _line(firing: Firing, event: EventRecord | None, actions: list[ActionLine]) -> FiringLine:
    summary = "" if event is None else summarize(
        event.kind, event.subject, event.change, event.previous, event.current)
    assert firing.id is not None
    return FiringLine(firing.id, firing.at, firing.rule, firing.subject, firing.reason, summary,
                      actions)
