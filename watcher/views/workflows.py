"""Workflows for the faces: the list with filters, and one workflow with its steps and log.

The rows are `watcher status --json`'s `workflows` rows and the log is `watcher history WF
--json`'s; the steps are the workflow's graph (each with `after:` its inputs), read from the
record's progress, so a page can draw where it stands without knowing the staging rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from watcher.store.models import Workflow
from watcher.workflows import record
from watcher.workflows.show import age, graph_steps, is_graph, step_summary

# Today's shape: stage-in -> compute -> stage-out, and a cleanup that runs if they fail.
_STEPS = (("stage-in", "stage_in", ()), ("compute", "compute", ("stage-in",)),
          ("stage-out", "stage_out", ("compute",)), ("cleanup", "cleanup", ()))


def workflow_row(session: Session, wf: Workflow, now: datetime) -> dict[str, Any]:
    """One line of `watcher status`'s workflows."""
    lines = record.lines(session, wf.id)
    last = lines[-1] if lines else None
    return {"id": wf.id, "name": wf.name, "step": wf.step, "age": age(wf.created_at, now),
            "created_at": wf.created_at, "compute_job": wf.compute_job,
            "stage_in_task": wf.stage_in_task,
            "summary": step_summary(wf) if is_graph(wf) else None,
            "last_event": last.text if last else None,
            "last_event_at": last.at if last else None}


def list_workflows(session: Session, now: datetime, *, step: str | None = None,
                   name: str | None = None, ended: bool | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
    """The most recently changed workflows first, filtered by step, name or being over."""
    stmt = select(Workflow)
    if step is not None:
        stmt = stmt.where(Workflow.step == step)
    if name is not None:
        stmt = stmt.where(Workflow.name == name)
    if ended is not None:
        ends = col(Workflow.step).in_(record.ENDED)
        stmt = stmt.where(ends if ended else ~ends)
    stmt = stmt.order_by(col(Workflow.updated_at).desc()).limit(limit)
    return [workflow_row(session, wf, now) for wf in session.exec(stmt).all()]


def steps(wf: Workflow) -> list[dict[str, Any]]:
    """Each step of the graph: its name, status, what it waits for, its job or task ids
    (`on_failure`: a step that runs only when the workflow fails)."""
    if wf.spec.get("graph"):
        return _graph_steps(wf)
    out = []
    for name, part, after in _STEPS:
        entry = wf.progress.get(part)
        if entry is None and not (part == "stage_out" and wf.spec.get("stage_out")):
            continue
        entry = entry or {"status": "pending"}
        item: dict[str, Any] = {"name": name, "status": entry.get("status", "pending"),
                                "after": [a for a in after if a != "stage-in"
                                          or "stage_in" in wf.progress]}
        if part in ("compute", "cleanup"):
            item["jobs"] = list(entry.get("jobs") or [])
        else:
            item["task"] = wf.stage_in_task if part == "stage_in" else wf.stage_out_task
        item["on_failure"] = name == "cleanup"
        out.append(item)
    return out


def _graph_steps(wf: Workflow) -> list[dict[str, Any]]:
    """`watcher.workflows.show.graph_steps`, with the ids as the three-step shape names them
    (`jobs` of a job step; `task`, the current one, and `tasks` of a transfer)."""
    out = []
    for row in graph_steps(wf):
        ids = row["ids"]
        extra = ({"jobs": ids} if row["kind"] == "job"
                 else {"task": ids[-1] if ids else None, "tasks": ids})
        out.append({**row, **extra})
    return out


def workflow_detail(session: Session, workflow_id: str, now: datetime
                    ) -> dict[str, Any] | None:
    """One workflow: its row's fields and ids, its steps and its step log; None if unknown."""
    wf = record.get(session, workflow_id)
    if wf is None:
        return None
    log = [{"at": line.at, "step": line.step, "text": line.text}
           for line in record.lines(session, wf.id)]
    return {**workflow_row(session, wf, now), "workdir": wf.workdir,
            "cleanup_job": wf.cleanup_job, "stage_out_task": wf.stage_out_task,
            "updated_at": wf.updated_at, "finished_at": wf.finished_at,
            "ended": wf.step in record.ENDED, "steps": steps(wf), "log": log}
