"""What every stage knows about each kind of event, declared once per kind and read everywhere.

The diff asks which fields make an event and what ages out, the first poll whether old subjects
are adopted quietly, conditions how to name a subject, templates which variable holds its
attributes (and in what view), a digest how to count several. A new source kind adds one row
here; no stage switches on kind names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from watcher.events import GLOBUS_ENDPOINT, GLOBUS_TASK, PBS_JOB, QUOTA, RULES_INVALID
from watcher.pbs.durations import job_view


@dataclass(frozen=True)
class EventKind:
    """One kind of event and what the stages need to know about it.

    `watched`: the fields whose change is an event; None compares every field, so a source
    whose attributes tick (byte counters, used walltime) must list its fields or every poll
    becomes an event. `ages_out`: (field, values) once reached, a subject may disappear without
    being `vanished`. `has_history`: the source lists subjects that ended before the watcher
    started, and the first poll with no history in the store adopts those without events.
    `noun` names a subject in condition messages ("job 12.srv has no field 'x'"), `plural` a
    digest's items ("50 jobs"). `variable` is the template variable holding the subject's
    attributes, as `view` presents them. `credentials`: its source polls with the stored
    Globus tokens, so a failed poll may be dead credentials rather than an outage
    (`watcher.sources.credentials`); only such observations meet the credentials edge.
    """

    name: str
    watched: frozenset[str] | None = None
    ages_out: tuple[str, frozenset[str]] | None = None
    has_history: bool = False
    noun: str = "subject"
    plural: str = "events"
    variable: str | None = None
    view: Callable[[Mapping[str, Any]], Any] = dict
    credentials: bool = False

    def aged_out(self, attrs: Mapping[str, Any]) -> bool:
        """Whether a subject with these attributes may disappear without an event."""
        return self.ages_out is not None and attrs.get(self.ages_out[0]) in self.ages_out[1]


KINDS: dict[str, EventKind] = {kind.name: kind for kind in (
    EventKind(
        PBS_JOB,
        # Not comment: the scheduler rewrites it with live counts ("Not Running: ... (R: A:
        # T:)") on queued jobs, which would make an event of nearly every poll.
        # name/queue/variables are here because moving into a rule's selection is an entry
        # (qalter -N, routing queues).
        watched=frozenset({"state", "substate", "exit_status", "hold_types", "run_count",
                           "queue", "name", "variables"}),
        # A finished job (F, or X for a subjob) leaves the server's history in time.
        ages_out=("state", frozenset({"F", "X"})),
        has_history=True,  # `qstat -x` lists two weeks of finished jobs
        noun="job", plural="jobs",
        variable="job", view=job_view,  # resources and used with durations: `walltime * 2`
    ),
    EventKind(
        QUOTA,
        # Not used_bytes: it moves on every poll while a job writes. The percentages (floored
        # to tenths by the source) move when a threshold could be crossed; a changed limit can
        # cross one by itself.
        watched=frozenset({"used_percent", "files_percent", "over_limit", "limit_bytes",
                           "files_limit"}),
        variable="quota",
    ),
    EventKind(
        GLOBUS_TASK,
        # Not bytes_transferred, files_transferred, ...: they tick on every poll of a task.
        watched=frozenset({"status", "nice_status", "is_paused", "fatal_error", "label"}),
        # A finished task leaves the watch list when its workflow is done: no disappearance.
        ages_out=("status", frozenset({"SUCCEEDED", "FAILED"})),
        noun="task", plural="transfers",
        variable="task", credentials=True,
    ),
    EventKind(GLOBUS_ENDPOINT, watched=frozenset({"inactive", "consent_required"}),
              credentials=True),
    EventKind(RULES_INVALID, noun="rule file", plural="rule files"),
)}


def kind_of(name: str) -> EventKind:
    """The declared kind, or a plain one (every field watched, nothing ages out)."""
    return KINDS.get(name) or EventKind(name)
