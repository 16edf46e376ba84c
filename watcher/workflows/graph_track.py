"""Keeping graph workflows' records up to date from the events of each poll.

`track` (called by `watcher.workflows.tracker.track`, in the transaction that records the
events) finds the step an event is about and applies `graph_react`. A job is found by its
WATCHER_WORKFLOW / WATCHER_STEP variables, a transfer by its `watcher <workflow> <step>` label
(a grafted one, started by the user, by the fact its graft wrote);
only the step's current job or task moves it (an earlier job's news is history). A job or task
of a step whose submission was interrupted (`submitting`) and carries that submission's tag is
learnt as the step's current one, so a crash between a qsub and its record loses nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from watcher.events import GLOBUS_TASK, PBS_JOB, Event
from watcher.pbs.lineage import INTENT
from watcher.store.facts import get_fact
from watcher.store.models import Workflow, WorkflowLog
from watcher.workflows import record
from watcher.workflows.graph_react import StepReaction, react_job, react_task
from watcher.workflows.jobs import submission_tag, workflow_of

LABEL = re.compile(r"^watcher (wf-[0-9a-f]{6}) (\S+)$")


def label(workflow_id: str, step: str) -> str:
    """The label of a graph step's transfer."""
    return f"watcher {workflow_id} {step}"


def resolve(session: Session, event: Event, *, learn: bool = False
            ) -> tuple[Workflow, str, str] | None:
    """(workflow, section, step) of a workflow's current job or task, or None."""
    found = _candidate(session, event)
    if found is None:
        return None
    wf, name = found
    section = record.section_of(wf, name)
    if section is None:
        return None
    entry = wf.progress.get(section, {}).get(name) or {}
    key = "jobs" if event.kind == PBS_JOB else "tasks"
    ids = list(entry.get(key) or [])
    if ids and ids[-1] == event.subject:
        return wf, section, name
    if not learn or event.subject in ids or entry.get("status") != "submitting":
        return None
    if event.kind == PBS_JOB:
        tag = ((event.current or {}).get("variables") or {}).get(INTENT)
        if tag != submission_tag(wf.id, name, int(entry.get("n", 0))):
            return None
    record.note(session, wf, section, name, **{key: [*ids, event.subject]})
    return wf, section, name


def _candidate(session: Session, event: Event) -> tuple[Workflow, str] | None:
    if event.kind == PBS_JOB:
        tags = workflow_of(event.current) or workflow_of(event.previous)
        if tags is None:
            return None
        wf = record.get(session, tags[0])
        return (wf, tags[1]) if wf is not None else None
    if event.kind == GLOBUS_TASK:
        text = (event.current or event.previous or {}).get("label") or ""
        match = LABEL.match(str(text))
        if match is not None:
            workflow_id, step = match.group(1), match.group(2)
        else:
            owner = get_fact(session, record.grafted_key(event.subject))
            if not owner:
                return None
            workflow_id, step = str(owner["workflow"]), str(owner["step"])
        wf = record.get(session, workflow_id)
        return (wf, step) if wf is not None else None
    return None


def track(session: Session, event: Event, now: datetime) -> bool:
    """Apply the event to its graph workflow, if it is about one; True if it was."""
    found = resolve(session, event, learn=True)
    if found is None:
        return False
    wf, section, name = found
    step: dict[str, Any] = wf.spec[section][name]
    entry = wf.progress[section].get(name) or {}
    reaction: StepReaction = (react_job(step, entry, event) if event.kind == PBS_JOB
                              else react_task(step, entry, event))
    if reaction.changes:
        record.note(session, wf, section, name, **reaction.changes)
    for at, text in reaction.lines:
        record.log(session, wf, _in_order(session, wf.id, name, at) if at else now, name, text)
    return True


def _in_order(session: Session, workflow_id: str, name: str, at: datetime) -> datetime:
    """A time PBS or Globus gave (whole seconds) for a line of step `name`, but never before
    the step's last line: a task that ends in the second it was started must not read as
    ending before watcher started it. The step table keeps the source's own times."""
    last = session.exec(select(func.max(col(WorkflowLog.at))).where(
        col(WorkflowLog.workflow_id) == workflow_id, col(WorkflowLog.step) == name)).one()
    return max(at, last) if isinstance(last, datetime) else at
