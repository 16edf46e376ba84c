"""Moving a rule's memory of a subject between the pure state machine and the store."""

from __future__ import annotations

from sqlmodel import Session

from watcher.engine.decide import RuleMemory
from watcher.store.models import RuleState


def load_memory(row: RuleState | None) -> RuleMemory:
    if row is None:
        return RuleMemory()
    return RuleMemory(row.in_condition, row.pending_since, row.pending_event_id, row.fire_count,
                      row.last_fired_at)


def save_memory(session: Session, rule: str, subject: str, memory: RuleMemory) -> None:
    """Write only when it differs, so an idle cycle writes nothing."""
    row = session.get(RuleState, (rule, subject))
    if row is None:
        if memory == RuleMemory():
            return
        row = RuleState(rule=rule, subject=subject)
    elif load_memory(row) == memory:
        return
    row.in_condition, row.pending_since, row.pending_event_id = (
        memory.in_condition, memory.pending_since, memory.pending_event_id)
    row.fire_count, row.last_fired_at = memory.fire_count, memory.last_fired_at
    session.add(row)
