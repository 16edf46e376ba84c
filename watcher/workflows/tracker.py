"""Keeping workflow records up to date from the events of each poll.

`track(session, events, now)` runs in the transaction that records the events, before the
engine evaluates them. It finds each event's workflow (a job by its `WATCHER_WORKFLOW` variable,
a task by the ids on record or by its `watcher <id> stage-out` label), learns new ids (a
compute job submitted again, the stage-out task a rule started), and writes the sub-step's
progress and the step log. Events of other subjects cost one dictionary look-up (jobs) or one
indexed query (watched tasks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from watcher.events import GLOBUS_TASK, PBS_JOB, VANISHED, Event
from watcher.globus.task_fields import TERMINAL
from watcher.store.models import Workflow
from watcher.store.watch import unwatch
from watcher.workflows import graph_track, record
from watcher.workflows.jobs import workflow_of
from watcher.workflows.react import Situation, react

_LABEL = re.compile(r"^watcher (wf-[0-9a-f]{6}) (stage-in|stage-out)$")


def track(session: Session, events: Sequence[Event], now: datetime) -> None:
    """Apply every event that concerns a workflow to its record."""
    for event in events:
        if graph_track.track(session, event, now):
            if event.kind == GLOBUS_TASK and (event.current or {}).get("status") in TERMINAL:
                unwatch(session, "globus", event.subject)
            continue
        found = resolve(session, event, learn=True, now=now)
        if found is None:
            continue
        wf, role = found
        reaction = react(situation(wf), role, event)
        for part, changes in reaction.notes.items():
            record.note(session, wf, part, **changes)
        for step, text in reaction.lines:
            record.log(session, wf, now, step, text)
        if event.kind == GLOBUS_TASK and (event.current or {}).get("status") in TERMINAL:
            unwatch(session, "globus", event.subject)  # seen to its end: nothing more to ask


def situation(wf: Workflow) -> Situation:
    """What `react` decides on: step, progress, cleanup and stage-out or not, walltime retries."""
    return Situation(wf.step, wf.progress, bool(wf.spec.get("cleanup")),
                     bool(wf.spec.get("stage_out")), int(wf.spec.get("walltime_retries", 0)))


def resolve(session: Session, event: Event, *, learn: bool = False,
            now: datetime | None = None) -> tuple[Workflow, str] | None:
    """The workflow the event's subject belongs to, and its role there (compute, cleanup,
    stage-in, stage-out), or None. With `learn`, a new job or task of a workflow is recorded
    as the current one of its step (needs `now`). A cancelled workflow's jobs and tasks are
    its no longer: their deletion must not read as a failed step (no cleanup, no mail)."""
    found = None
    if event.kind == PBS_JOB:
        found = _job(session, event, learn, now)
    elif event.kind == GLOBUS_TASK:
        found = _task(session, event, learn, now)
    return None if found is None or found[0].step == record.CANCELLED else found


def _job(session: Session, event: Event, learn: bool, now: datetime | None
         ) -> tuple[Workflow, str] | None:
    tags = workflow_of(event.current) or workflow_of(event.previous)
    if tags is None:
        return None
    wf = record.get(session, tags[0])
    step = tags[1]
    if wf is None or graph_track.is_graph(wf) or step not in wf.progress:
        return None
    jobs = list(wf.progress[step].get("jobs") or [])
    if jobs and jobs[-1] == event.subject:
        return wf, step
    if not learn or event.subject in jobs or event.change == VANISHED:
        return None  # an earlier job of the step: its news is history
    if (event.current or {}).get("state") == "F":
        return None
    state = (event.current or {}).get("state")
    record.note(session, wf, step, jobs=[*jobs, event.subject],
                status={"H": "held", "R": "running"}.get(str(state), "queued"))
    setattr(wf, f"{step}_job", event.subject)
    assert now is not None
    record.log(session, wf, now, wf.step, f"{step} is now job {event.subject}")
    return wf, step


def _task(session: Session, event: Event, learn: bool, now: datetime | None
          ) -> tuple[Workflow, str] | None:
    wf = record.by_task(session, event.subject)
    if wf is not None:
        return wf, "stage-in" if wf.stage_in_task == event.subject else "stage-out"
    label = (event.current or event.previous or {}).get("label") or ""
    match = _LABEL.match(str(label))
    if match is None or match.group(2) != "stage-out":
        return None
    wf = record.get(session, match.group(1))
    if wf is None or graph_track.is_graph(wf) or (
            wf.stage_out_task and wf.stage_out_task != event.subject):
        return None
    if learn:
        wf.stage_out_task = event.subject
        session.add(wf)
    return wf, "stage-out"
