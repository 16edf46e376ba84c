"""Moving a rule's edge state for a subject between the pure state machine and the store."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from watcher.engine.decide import EdgeState
from watcher.store.models import RuleState


def load_edge_state(row: RuleState | None) -> EdgeState:
    """The edge state a stored row holds; no row is a subject never seen inside the condition."""
    if row is None:
        return EdgeState()
    return EdgeState(row.in_condition, row.pending_since, row.pending_event_id, row.fire_count,
                      row.last_fired_at)


def save_edge_state(session: Session, rule: str, subject: str, edge: EdgeState) -> None:
    """Write only when it differs, so an idle cycle writes nothing."""
    row = session.get(RuleState, (rule, subject))
    if row is None:
        if edge == EdgeState():
            return
        row = RuleState(rule=rule, subject=subject)
    elif load_edge_state(row) == edge:
        return
    _copy(edge, row)
    session.add(row)


_CHUNK = 500  # subjects per IN (...) query


class EdgeStates:
    """The edge states of one batch of events, read in one query per 500 subjects instead
    of one `session.get` per rule and event (each of which also flushed the session): a lost
    queue of 5,000 jobs is 10,000 look-ups with two rules on `vanished`."""

    def __init__(self, session: Session, subjects: Iterable[str]) -> None:
        self._session = session
        self._rows: dict[tuple[str, str], RuleState] = {}
        self._subjects = set(subjects)
        wanted = sorted(self._subjects)
        for start in range(0, len(wanted), _CHUNK):
            stmt = select(RuleState).where(col(RuleState.subject).in_(wanted[start:start + _CHUNK]))
            for row in session.exec(stmt):
                self._rows[(row.rule, row.subject)] = row

    def row(self, rule: str, subject: str) -> RuleState | None:
        """The stored row, read from the preloaded batch when `subject` was one of its subjects."""
        if subject in self._subjects:
            return self._rows.get((rule, subject))
        return self._session.get(RuleState, (rule, subject))

    def save(self, rule: str, subject: str, edge: EdgeState) -> None:
        """`save_edge_state` through the batch's rows."""
        row = self.row(rule, subject)
        if row is None:
            if edge == EdgeState():
                return
            row = RuleState(rule=rule, subject=subject)
            self._rows[(rule, subject)] = row
        elif load_edge_state(row) == edge:
            return
        _copy(edge, row)
        self._session.add(row)


def _copy(edge: EdgeState, row: RuleState) -> None:
    row.in_condition, row.pending_since, row.pending_event_id = (
        edge.in_condition, edge.pending_since, edge.pending_event_id)
    row.fire_count, row.last_fired_at = edge.fire_count, edge.last_fired_at
