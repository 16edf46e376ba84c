"""Silences: `watcher silence add RULE --for 2h` mutes a rule (or a glob of rules) for a while.

A silence is a Fact (`silence:<id>`), so it needs no table of its own and commits like any other
record. The engine asks `suppress` when a rule would fire: a silenced firing runs no action and
is recorded as a firing without actions whose reason says which silence held it, so
`watcher history` shows what was muted. The rule's edge state still moves (the edge is consumed), so
lifting a silence does not replay what happened under it. Ended silences stay, as a record.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlmodel import Session, col, select

from watcher.store.facts import get_fact, put_fact
from watcher.store.models import Fact, Firing

PREFIX = "silence:"
_CACHE = "watcher.silences"  # session.info: the silences read once per transaction


@dataclass(frozen=True)
class Silence:
    """Mutes rules whose name matches the glob `rule` (and subjects matching `subject`)."""

    id: str
    rule: str
    until: datetime
    created_at: datetime
    created_by: str = ""
    subject: str | None = None
    comment: str = ""

    def active(self, now: datetime) -> bool:
        """Whether the silence still holds at `now` (it ends at `until`, exclusive)."""
        return now < self.until

    def covers(self, rule: str, subject: str, now: datetime) -> bool:
        """Active at `now`, and the rule (and subject, when given) match its globs."""
        return (self.active(now) and fnmatchcase(rule, self.rule)
                and (self.subject is None or fnmatchcase(subject, self.subject)))

    @property
    def reason(self) -> str:
        """Why a firing did not run: `silenced until 2026-01-01 14:00:00 UTC by 1a2b3c4d (...)`."""
        text = f"silenced until {self.until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC by {self.id}"
        return f"{text} ({self.comment})" if self.comment else text

    def to_value(self) -> dict[str, Any]:
        """The JSON-able form stored as a fact: the datetimes as ISO 8601 text."""
        value = asdict(self)
        value["until"], value["created_at"] = self.until.isoformat(), self.created_at.isoformat()
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Silence:
        """The inverse of `to_value`."""
        return cls(**{**value, "until": datetime.fromisoformat(value["until"]),
                      "created_at": datetime.fromisoformat(value["created_at"])})


def covering(silences: Sequence[Silence], rule: str, subject: str, now: datetime
             ) -> Silence | None:
    """The active silence that lasts longest among those covering the firing. Pure."""
    found = [s for s in silences if s.covers(rule, subject, now)]
    return max(found, key=lambda s: s.until, default=None)


def suppress(session: Session, rule: str, subject: str, event_id: int | None, now: datetime
             ) -> str | None:
    """If a silence covers this firing, record it as a firing without actions; return why."""
    cached = session.info.get(_CACHE)
    if cached is None:
        cached = session.info[_CACHE] = load_silences(session)
    silence = covering(cached, rule, subject, now)
    if silence is None:
        return None
    session.add(Firing(rule=rule, subject=subject, event_id=event_id, at=now,
                       reason=silence.reason))
    return silence.reason


def load_silences(session: Session) -> list[Silence]:
    """Every silence, ended ones included, oldest first."""
    facts = session.exec(select(Fact).where(col(Fact.key).startswith(PREFIX, autoescape=True)))
    found = [Silence.from_value(fact.value) for fact in facts]
    return sorted(found, key=lambda s: (s.created_at, s.id))


def add_silence(session: Session, rule: str, duration: timedelta, now: datetime, *,
                subject: str | None = None, comment: str = "", created_by: str = "") -> Silence:
    """Mute `rule` (a name or a glob) for `duration` from `now`."""
    silence_id = uuid.uuid4().hex[:8]
    while get_fact(session, PREFIX + silence_id) is not None:
        silence_id = uuid.uuid4().hex[:8]
    silence = Silence(silence_id, rule, now + duration, now, created_by, subject, comment)
    put_fact(session, PREFIX + silence.id, silence.to_value())
    return silence


def end_silence(session: Session, silence_id: str, now: datetime) -> Silence | None:
    """End a silence now (it stays on record); None if there is no such silence."""
    value = get_fact(session, PREFIX + silence_id)
    if value is None:
        return None
    silence = Silence.from_value(value)
    if silence.active(now):
        silence = replace(silence, until=now)
        put_fact(session, PREFIX + silence.id, silence.to_value())
    return silence
