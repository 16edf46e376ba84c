"""The workflow record in the store: create it, find it, note progress, append to its log.

Every function works inside the caller's session, so a change to a workflow commits with
whatever caused it (the events of a poll, a qsub's job id). `progress` is a JSON column:
it is replaced, never mutated in place (SQLAlchemy would not see an in-place change).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from watcher.store.models import Workflow, WorkflowLog
from watcher.workflows.spec import WorkflowSpec

# Sub-steps, and the step names of the log (submitted → credentials → stage-in → running →
# stage-out → done; or failed, after cleanup).
SUBMITTED, CREDENTIALS, STAGE_IN, RUNNING, STAGE_OUT = (
    "submitted", "credentials", "stage-in", "running", "stage-out")
DONE, FAILED, CLEANUP = "done", "failed", "cleanup"
CANCELLED = "cancelled"  # by the user (`watcher stage cancel`, the API): an end, not a failure
ENDED = (DONE, FAILED, CANCELLED)
PREFIX = "wf-"


def new_id(session: Session) -> str:
    """`wf-` and six hex digits, not yet taken."""
    while True:
        candidate = PREFIX + secrets.token_hex(3)
        if session.get(Workflow, candidate) is None:
            return candidate


def create(session: Session, spec: WorkflowSpec, workdir: str, now: datetime) -> Workflow:
    """Record a new workflow: nothing submitted yet, every sub-step pending."""
    progress: dict[str, Any] = {"compute": {"status": "pending", "n": 0, "jobs": []},
                                "stage_in": {"status": "pending"}}
    if spec.cleanup:
        progress["cleanup"] = {"status": "pending", "n": 0, "jobs": []}
    if spec.stage_in_task:
        progress["stage_in"] = {"status": "grafting"}
    wf = Workflow(id=new_id(session), name=spec.name or _stem(spec.script), created_at=now,
                  updated_at=now, workdir=workdir, spec=spec.to_record(), progress=progress)
    session.add(wf)
    session.flush()
    log(session, wf, now, SUBMITTED, f"workflow {wf.id} recorded ({wf.name})")
    return wf


def _stem(script: str) -> str:
    return script.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "workflow"


def get(session: Session, workflow_id: str) -> Workflow | None:
    """The workflow with this id, or None if the store has none."""
    return session.get(Workflow, workflow_id)


def by_task(session: Session, task_id: str) -> Workflow | None:
    """The workflow whose stage-in or stage-out transfer is `task_id`."""
    return session.exec(select(Workflow).where(or_(
        col(Workflow.stage_in_task) == task_id, col(Workflow.stage_out_task) == task_id))).first()


def log(session: Session, wf: Workflow, at: datetime, step: str, text: str) -> None:
    """Append one line to the step log; `step` also becomes the workflow's current step,
    unless the workflow has ended (later lines, such as a cleanup job deleted, are news only)."""
    session.add(WorkflowLog(workflow_id=wf.id, at=at, step=step, text=text))
    if wf.step not in ENDED:
        wf.step = step
    wf.updated_at = at
    if step in ENDED and wf.finished_at is None:
        wf.finished_at = at
    session.add(wf)


def note(session: Session, wf: Workflow, part: str, **changes: Any) -> dict[str, Any]:
    """Update one sub-step's progress entry (a new dict, so the JSON column is written)."""
    entry = {**wf.progress.get(part, {}), **changes}
    wf.progress = {**wf.progress, part: entry}
    session.add(wf)
    return entry


def lines(session: Session, workflow_id: str) -> Sequence[WorkflowLog]:
    """The step log, oldest first."""
    return session.exec(select(WorkflowLog).where(WorkflowLog.workflow_id == workflow_id)
                        .order_by(col(WorkflowLog.at), col(WorkflowLog.id))).all()


def recent(session: Session, limit: int = 20) -> Sequence[Workflow]:
    """The most recently changed workflows, newest first."""
    return session.exec(select(Workflow).order_by(col(Workflow.updated_at).desc())
                        .limit(limit)).all()
