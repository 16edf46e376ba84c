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
from watcher.workflows.show import graph_steps, workflow_row


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
    found = (record.get(session, wf.id) for wf in session.exec(stmt).all())  # upgraded
    return [workflow_row(session, wf, now) for wf in found if wf is not None]


def steps(wf: Workflow) -> list[dict[str, Any]]:
    """`watcher.workflows.show.graph_steps`, each with its ids as `jobs` (a job step) or
    `task`, the current one, and `tasks` (a transfer step)."""
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
            "updated_at": wf.updated_at, "finished_at": wf.finished_at,
            "ended": wf.step in record.ENDED, "steps": steps(wf), "log": log}
