"""`workflow` in the templates of rules: the live record, read when a rule fires.

The engine asks `workflow_context(session, event)` for every firing; the answer is
`{"workflow": {...}}` for an event about a workflow's job or transfer and
`{"workflow": None}` for any other, so a condition like `workflow and workflow.role ==
'stage-in'` works for every subject. Reading at firing time (not when the rule was loaded) is
what lets `{{ workflow.jobs.compute }}` name the compute job even after it was submitted again
under a new id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from watcher.events import Event
from watcher.store.models import Workflow
from watcher.workflows import graph_track, record
from watcher.workflows.show import current_ids, log_line


def workflow_context(session: Session, event: Event) -> Mapping[str, Any]:
    """`workflow` for every event: the workflow the subject belongs to, or None."""
    found = graph_track.resolve(session, event)
    return {"workflow": None if found is None else view(session, *found)}


def view(session: Session, wf: Workflow, section: str, name: str) -> dict[str, Any]:
    """What templates see: `role` (and `step_name`) is the step the event is about (`stage-in`,
    `compute`, `stage-out`, `cleanup` for `watcher stage submit`'s three steps), `step` (and
    `state`) where the workflow stands, `steps` every step's progress, `jobs` and `tasks` each
    step's current job or task id, `log` the step log as text."""
    jobs, tasks = current_ids(wf)
    return {
        "id": wf.id, "name": wf.name, "role": name, "step": wf.step, "state": wf.step,
        "section": section, "step_name": name, "step_kind": wf.spec[section][name]["kind"],
        "workdir": wf.workdir, "created_at": wf.created_at, "email": wf.spec.get("email"),
        "steps": {key: dict(entry) for key, entry in (wf.progress.get("steps") or {}).items()},
        "jobs": jobs, "tasks": tasks,
        "log": "\n".join(log_line(line) for line in record.lines(session, wf.id)),
    }
