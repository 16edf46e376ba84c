"""`workflow` in the templates of rules: the live record, read when a rule fires.

The engine asks `workflow_context(session, event)` for every firing; the answer is
`{"workflow": {...}}` for an event about a workflow's job or transfer and
`{"workflow": None}` for any other, so a condition like `workflow and workflow.role ==
'stage-in'` works for every subject. For a Globus task event it also gives `task`, the task's
attributes after the change (status, nice_status, fatal_error, files_transferred, ...), which
the templating module leaves to later features. Reading at firing time (not when the rule was
loaded) is what lets `{{ workflow.compute_job }}` name the compute job even after it was submitted
again under a new id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from watcher.events import GLOBUS_TASK, Event
from watcher.store.models import Workflow
from watcher.workflows import record
from watcher.workflows.show import log_line
from watcher.workflows.tracker import resolve


def workflow_context(session: Session, event: Event) -> Mapping[str, Any]:
    """`workflow` for every event; `task` (the task's attributes) for Globus task events."""
    found = resolve(session, event)
    context: dict[str, Any] = {"workflow": None if found is None else view(session, *found)}
    if event.kind == GLOBUS_TASK:
        attrs = event.current if event.current is not None else event.previous
        context["task"] = dict(attrs) if attrs is not None else None
    return context


def view(session: Session, wf: Workflow, role: str | None = None) -> dict[str, Any]:
    """What templates see: ids, where it stands, the spec, and the step log as text."""
    progress = wf.progress
    return {
        "id": wf.id, "name": wf.name, "role": role, "step": wf.step,
        "workdir": wf.workdir, "created_at": wf.created_at,
        "compute_job": wf.compute_job, "cleanup_job": wf.cleanup_job,
        "stage_in_task": wf.stage_in_task, "stage_out_task": wf.stage_out_task,
        "email": wf.spec.get("email"), "script": wf.spec.get("script"),
        "stage_out": wf.spec.get("stage_out_transfer"),
        "compute_status": progress.get("compute", {}).get("status"),
        "cleanup_status": progress.get("cleanup", {}).get("status"),
        "stage_in_status": progress.get("stage_in", {}).get("status"),
        "stage_out_status": progress.get("stage_out", {}).get("status"),
        "compute_jobs": list(progress.get("compute", {}).get("jobs") or []),
        "log": "\n".join(log_line(line) for line in record.lines(session, wf.id)),
    }
