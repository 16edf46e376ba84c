"""`workflow` in the templates of rules: the live record, read when a rule fires.

The engine asks `workflow_context(session, event)` for every firing; the answer is
`{"workflow": {...}}` for an event about a workflow's job or transfer and
`{"workflow": None}` for any other, so a condition like `workflow and workflow.role ==
'stage-in'` works for every subject. Reading at firing time (not when the rule was
loaded) is what lets `{{ workflow.compute_job }}` name the compute job even after it was submitted
again under a new id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from watcher.events import Event
from watcher.store.models import Workflow
from watcher.workflows import graph_track, record
from watcher.workflows.show import log_line
from watcher.workflows.tracker import resolve


def workflow_context(session: Session, event: Event) -> Mapping[str, Any]:
    """`workflow` for every event: the workflow the subject belongs to, or None."""
    graph = graph_track.resolve(session, event)
    if graph is not None:
        return {"workflow": graph_view(session, *graph)}
    found = resolve(session, event)
    context: dict[str, Any] = {"workflow": None if found is None else view(session, *found)}
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
        # A graph workflow's names (`graph_view`), none here.
        **dict.fromkeys(GRAPH_ONLY), "graph": False,
    }


GRAPH_ONLY = ("state", "section", "step_name", "step_kind", "steps")


def graph_view(session: Session, wf: Workflow, section: str, name: str) -> dict[str, Any]:
    """What templates see of a graph workflow: `role` is `graph` (so no rule of the three-step
    shape matches), `step_name` the step the event is about, `steps` every step's progress."""
    return {
        "id": wf.id, "name": wf.name, "role": "graph", "graph": True, "state": wf.step,
        "step": wf.step, "section": section, "step_name": name,
        "step_kind": wf.spec[section][name]["kind"], "workdir": wf.workdir,
        "created_at": wf.created_at, "email": wf.spec.get("email"),
        "steps": {key: dict(entry) for key, entry in (wf.progress.get("steps") or {}).items()},
        "log": "\n".join(log_line(line) for line in record.lines(session, wf.id)),
        # The three-step shape's names, none here, so its rules' conditions stay false.
        **dict.fromkeys(("compute_job", "cleanup_job", "stage_in_task", "stage_out_task",
                         "stage_out", "script", "compute_status", "cleanup_status",
                         "stage_in_status", "stage_out_status")), "compute_jobs": [],
    }
