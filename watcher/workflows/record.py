"""The workflow record in the store: create it, find it, note its steps' progress, log.

`spec` is `GraphSpec.to_record()` (`graph: true`, `steps`, `on_failure`); `progress` holds one
entry per step under `steps` and `on_failure` (see `watcher.workflows.graph_plan` for the
statuses), and `mailed`, the kinds of mail already sent. The record's `step` is the workflow's
state: `submitted`, `running`, `failing` (its on_failure steps run), `done`, `failed` or
`cancelled`. Log lines are headed by the step they are about (`workflow` for the whole).

Every function works inside the caller's session, so a change to a workflow commits with
whatever caused it (the events of a poll, a qsub's job id). JSON columns are replaced, never
mutated in place (SQLAlchemy would not see an in-place change). A record written by a watcher
before the one engine is upgraded as it is read (`watcher.workflows.upgrade`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from watcher.store.facts import put_fact
from watcher.store.models import Workflow, WorkflowLog
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph_plan import CANCELLED, DONE, FAILED, FINAL
from watcher.workflows.upgrade import is_old, upgrade

SUBMITTED = "submitted"
ENDED = (DONE, FAILED, CANCELLED)
WHOLE = "workflow"  # the log's header for lines about the whole workflow
SECTIONS = ("steps", "on_failure")
PREFIX = "wf-"


def new_id(session: Session) -> str:
    """`wf-` and six hex digits, not yet taken."""
    while True:
        candidate = PREFIX + secrets.token_hex(3)
        if session.get(Workflow, candidate) is None:
            return candidate


def create(session: Session, spec: GraphSpec, workdir: str, now: datetime,
           email: str | None = None) -> Workflow:
    """Record a new workflow: every step pending, nothing submitted. `email` is where news
    goes when the spec names no address (the settings' `user_email`)."""
    data = spec.to_record()
    data["email"] = data.get("email") or email
    progress: dict[str, Any] = {
        section: {name: _fresh(step) for name, step in data[section].items()}
        for section in SECTIONS}
    progress["mailed"] = []
    wf = Workflow(id=new_id(session), name=spec.name, created_at=now, updated_at=now,
                  workdir=workdir, spec=data, progress=progress, step=SUBMITTED)
    session.add(wf)
    session.flush()
    steps = ", ".join(data["steps"])
    log(session, wf, now, WHOLE, f"workflow {wf.id} recorded ({wf.name}): steps {steps}")
    return wf


def _fresh(step: Mapping[str, Any]) -> dict[str, Any]:
    if step["kind"] == "job":
        return {"kind": "job", "status": "pending", "n": 0, "jobs": []}
    return {"kind": "transfer", "status": "pending", "attempt": 0, "tasks": []}


def get(session: Session, workflow_id: str) -> Workflow | None:
    """The workflow with this id, or None if the store has none."""
    return _current(session, session.get(Workflow, workflow_id))


def _current(session: Session, wf: Workflow | None) -> Workflow | None:
    """`wf`, upgraded if an earlier watcher recorded it: in a write session for good (with
    its next commit), in a read-only one as a copy that is never written."""
    if wf is None or not is_old(wf.spec or {}):
        return wf
    state, spec, progress = upgrade(wf.id, wf.step, wf.spec, wf.progress)
    if not session.info.get("write", True):
        return Workflow(**{**wf.model_dump(), "step": state, "spec": spec,
                           "progress": progress})
    wf.step, wf.spec, wf.progress = state, spec, progress
    graft = spec["steps"]["stage-in"]["transfer"].get("task")
    if graft and progress["steps"]["stage-in"]["tasks"]:
        put_fact(session, grafted_key(graft), {"workflow": wf.id, "step": "stage-in"})
    session.add(wf)
    log(session, wf, wf.updated_at, WHOLE, "recorded by an earlier watcher: now run as the "
                                           "graph stage-in -> compute -> stage-out")
    return wf


def grafted_key(task_id: str) -> str:
    """The fact naming the workflow step a grafted task (one the user started) belongs to:
    its label is the user's, so it cannot say."""
    return f"workflow-task:{task_id}"


def section_of(wf: Workflow, name: str) -> str | None:
    """Whether `name` is a step (`steps`) or an on_failure step, or neither (None)."""
    for section in SECTIONS:
        if name in (wf.spec.get(section) or {}):
            return section
    return None


def note(session: Session, wf: Workflow, section: str, name: str, **changes: Any
         ) -> dict[str, Any]:
    """Update one step's entry (new dicts, so the JSON column is written)."""
    part = dict(wf.progress.get(section) or {})
    entry = {**(part.get(name) or {}), **changes}
    part[name] = entry
    wf.progress = {**wf.progress, section: part}
    session.add(wf)
    return entry


def note_whole(session: Session, wf: Workflow, key: str, **changes: Any) -> None:
    """Update an entry about the whole workflow (`cancel`: its reason and what is left)."""
    wf.progress = {**wf.progress, key: {**(wf.progress.get(key) or {}), **changes}}
    session.add(wf)


def set_state(session: Session, wf: Workflow, state: str, at: datetime) -> None:
    """Move the whole workflow to `state` (a final state sets `finished_at`)."""
    if wf.step in FINAL:
        return
    wf.step = state
    wf.updated_at = at
    if state in FINAL and wf.finished_at is None:
        wf.finished_at = at
    session.add(wf)


def mark_mailed(session: Session, wf: Workflow, kind: str) -> None:
    """Record that the `kind` mail went out this round, so it is not sent twice."""
    wf.progress = {**wf.progress, "mailed": [*(wf.progress.get("mailed") or []), kind]}
    session.add(wf)


def log(session: Session, wf: Workflow, at: datetime, header: str, text: str) -> None:
    """One line of the step log under `header` (a step's name, or `workflow`)."""
    session.add(WorkflowLog(workflow_id=wf.id, at=at, step=header, text=text))
    if at > wf.updated_at:
        wf.updated_at = at
    session.add(wf)


def lines(session: Session, workflow_id: str) -> Sequence[WorkflowLog]:
    """The step log, oldest first: by the second each line happened at, then in the order the
    lines were written. A job's or a task's news carries the time PBS or Globus gives, to the
    second; the watcher's own lines carry its clock's microseconds. Within one second the
    order they were written in is the order they happened in ("submitted as 1.srv (held)",
    "job 1.srv released", then "job 1.srv running" stamped at the second it started), which
    ordering by the stamps alone would turn around."""
    found = session.exec(select(WorkflowLog).where(WorkflowLog.workflow_id == workflow_id)).all()
    return sorted(found, key=lambda line: (line.at.replace(microsecond=0), line.id or 0))


def recent(session: Session, limit: int = 20) -> Sequence[Workflow]:
    """The most recently changed workflows, newest first."""
    found = session.exec(select(Workflow).order_by(col(Workflow.updated_at).desc())
                         .limit(limit)).all()
    return [wf for wf in (_current(session, wf) for wf in found) if wf is not None]
