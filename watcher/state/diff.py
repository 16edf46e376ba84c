"""From the last known attributes and a new observation to events (pure: no I/O, no clock).

- A subject seen for the first time: APPEARED (previous None).
- A subject whose watched fields changed: CHANGED, with both sides and the fields that moved.
  Other fields (a job's comment, a task's byte counters) are stored but make no event; each
  kind declares its watched fields and what ages out in `watcher.kinds`.
- A subject missing from a healthy answer: its miss count grows; at `vanish_after` (2)
  consecutive misses it is VANISHED (current None) and forgotten. A job last seen finished
  (state F, or X for a subjob) that goes missing has aged out of the server's history: it is
  forgotten after the same misses, without an event. A subject back before that just resets.
- A subject the source listed but could not read (`Observation.unreadable`): nothing changes.
- An unhealthy observation changes nothing: unknown is not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.events import APPEARED, CHANGED, VANISHED, Event
from watcher.kinds import kind_of
from watcher.sources.base import Observation

VANISH_AFTER = 2


@dataclass(frozen=True)
class PrevEntry:
    """What the store remembers of one subject: its attributes and its misses in a row."""

    attrs: dict[str, Any]
    missing_polls: int = 0


@dataclass
class DiffResult:
    """Events, plus what to write back.

    `upserts`: attributes to store (their miss count becomes 0); only subjects that are new,
    changed in any field, or back from a miss. `missing`: new miss counts of subjects still
    remembered. `forget`: subjects to delete.
    """

    events: list[Event] = field(default_factory=list)
    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    forget: set[str] = field(default_factory=set)


def diff_observation(
    previous: Mapping[str, PrevEntry],
    obs: Observation,
    *,
    kind: str,
    tracked: Callable[[dict[str, Any]], bool] | None = None,
    vanish_after: int = VANISH_AFTER,
) -> DiffResult:
    """Diff `obs` against `previous`. `tracked` picks which new subjects to adopt; a subject
    already remembered is followed until it vanishes, whatever `tracked` says of it now."""
    result = DiffResult()
    if not obs.ok:
        return result
    watched = kind_of(kind).watched
    for subject, attrs in obs.subjects.items():
        prev = previous.get(subject)
        if prev is None:
            if tracked is None or tracked(attrs):
                result.upserts[subject] = attrs
                result.events.append(_event(kind, subject, obs, APPEARED, None, attrs))
        elif prev.attrs != attrs or prev.missing_polls:
            result.upserts[subject] = attrs
            moved = _changed_fields(prev.attrs, attrs, watched)
            if moved:
                event = _event(kind, subject, obs, CHANGED, prev.attrs, attrs, moved)
                result.events.append(event)
    for subject, prev in previous.items():
        if subject not in obs.subjects and subject not in obs.unreadable:
            _missed(result, kind, subject, prev, obs, vanish_after)
    return result


def _missed(
    result: DiffResult, kind: str, subject: str, prev: PrevEntry, obs: Observation, limit: int
) -> None:
    misses = prev.missing_polls + 1
    if misses < limit:
        result.missing[subject] = misses
        return
    result.forget.add(subject)
    if not kind_of(kind).aged_out(prev.attrs):
        result.events.append(_event(kind, subject, obs, VANISHED, prev.attrs, None))


def _changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], watched: frozenset[str] | None
) -> list[str]:
    names = watched if watched is not None else before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


def _event(
    kind: str,
    subject: str,
    obs: Observation,
    change: str,
    previous: dict[str, Any] | None,
    current: dict[str, Any] | None,
    moved: list[str] | None = None,
) -> Event:
    data = {"source": obs.source, **({"changed": moved} if moved else {})}
    return Event(kind, subject, obs.at, change, previous, current, data)
