"""From the last known attributes and a new observation to events (pure: no I/O, no clock).

- A subject seen for the first time: APPEARED (previous None).
- A subject whose watched fields changed: CHANGED, with both sides and the fields that moved.
  Other fields (a job's variables, a task's byte counters) are stored but make no event.
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

from watcher.events import (
    APPEARED,
    CHANGED,
    GLOBUS_ENDPOINT,
    GLOBUS_TASK,
    PBS_JOB,
    QUOTA,
    VANISHED,
    Event,
)
from watcher.sources.base import Observation

# The fields whose change is an event, per event kind; a kind not listed here compares every
# field. One place only: a source whose attributes tick (byte counters, used walltime) must
# list its fields here, or every poll becomes an event.
WATCHED_FIELDS: dict[str, frozenset[str]] = {
    # Not comment: the scheduler rewrites it with live counts ("Not Running: ... (R: A: T:)")
    # on queued jobs, which would make an event of nearly every poll. name/queue/variables are
    # here because moving into a rule's selection is an entry (qalter -N, routing queues).
    PBS_JOB: frozenset(
        {"state", "substate", "exit_status", "hold_types", "run_count", "queue", "name",
         "variables"}
    ),
    # Not used_bytes: it moves on every poll while a job writes. The percentages (floored to
    # tenths by the source) move when a threshold could be crossed; a changed limit can cross
    # one by itself.
    QUOTA: frozenset({"used_percent", "files_percent", "over_limit", "limit_bytes",
                      "files_limit"}),
    # Not bytes_transferred, files_transferred, ...: they tick on every poll of a moving task.
    GLOBUS_TASK: frozenset({"status", "nice_status", "is_paused", "fatal_error", "label"}),
    GLOBUS_ENDPOINT: frozenset({"inactive", "consent_required"}),
}

# Subjects whose disappearance is expected once they reach these values: (field, values).
AGES_OUT: dict[str, tuple[str, frozenset[str]]] = {
    PBS_JOB: ("state", frozenset({"F", "X"})),
    # A finished task leaves the watch list when its workflow is done: not a disappearance.
    GLOBUS_TASK: ("status", frozenset({"SUCCEEDED", "FAILED"})),
}

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
    watched = WATCHED_FIELDS.get(kind)
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
    if not _aged_out(kind, prev.attrs):
        result.events.append(_event(kind, subject, obs, VANISHED, prev.attrs, None))


def _aged_out(kind: str, attrs: Mapping[str, Any]) -> bool:
    rule = AGES_OUT.get(kind)
    return rule is not None and attrs.get(rule[0]) in rule[1]


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
