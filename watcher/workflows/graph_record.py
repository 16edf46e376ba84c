"""A graph workflow's record: the same `workflow` and `workflow_log` tables as every workflow.

`spec` is `GraphSpec.to_record()` (`graph: true`, `steps`, `on_failure`); `progress` holds one
entry per step under `steps` and `on_failure` (see `watcher.workflows.graph_plan` for the
statuses), and `mailed`, the kinds of mail already sent. The record's `step` is the workflow's
state: `submitted`, `running`, `failing` (its on_failure steps run), `done`, `failed` or
`cancelled`. Log lines are headed by the step they are about (`workflow` for the whole).
Every function works in the caller's session; JSON columns are replaced, never mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from watcher.store.models import Workflow, WorkflowLog
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph_plan import FINAL
from watcher.workflows.record import SUBMITTED, new_id

WHOLE = "workflow"  # the log's header for lines about the whole workflow
SECTIONS = ("steps", "on_failure")


def create(session: Session, spec: GraphSpec, workdir: str, now: datetime,
           email: str | None = None) -> Workflow:
    """Record a new graph workflow: every step pending, nothing submitted. `email` is where
    news goes when the file names no address (the settings' `user_email`)."""
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


def is_graph_record(wf: Workflow) -> bool:
    """Whether the workflow belongs to the graph engine (its spec says `graph`)."""
    return bool((wf.spec or {}).get("graph"))


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
