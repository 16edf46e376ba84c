"""Workflows for people: the step log of one (`watcher history WF`) and a line per workflow
(`watcher status`). Reads only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from watcher.lang.durations import format_duration
from watcher.store.models import Workflow, WorkflowLog
from watcher.workflows import record


def when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def log_line(line: WorkflowLog) -> str:
    """`2026-05-01 12:00:03 UTC  stage-in     stage-in started: Globus task …`."""
    return f"{when(line.at)} UTC  {line.step:<11}  {line.text}"


def header(wf: Workflow) -> str:
    ids = [f"compute {wf.compute_job or '-'}"]
    if wf.cleanup_job:
        ids.append(f"cleanup {wf.cleanup_job}")
    ids.append(f"stage-in {wf.stage_in_task or '-'}")
    if wf.stage_out_task:
        ids.append(f"stage-out {wf.stage_out_task}")
    return f"Workflow {wf.id} ({wf.name}), now {wf.step}: {', '.join(ids)}; in {wf.workdir}"


def history(session: Session, workflow_id: str) -> tuple[Workflow, list[WorkflowLog]] | None:
    """The workflow and its step log, oldest first; None when there is no such workflow."""
    wf = record.get(session, workflow_id)
    return None if wf is None else (wf, list(record.lines(session, workflow_id)))


def age(since: datetime, now: datetime) -> str:
    return format_duration(timedelta(seconds=max(0, int((now - since).total_seconds()))))


def workflow_rows(session: Session, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The most recently active workflows: id, name, step, age and the last log line."""
    rows = []
    for wf in record.recent(session, limit):
        lines = record.lines(session, wf.id)
        last = lines[-1] if lines else None
        rows.append({"id": wf.id, "name": wf.name, "step": wf.step,
                     "age": age(wf.created_at, now), "created_at": wf.created_at,
                     "compute_job": wf.compute_job, "stage_in_task": wf.stage_in_task,
                     "last_event": last.text if last else None,
                     "last_event_at": last.at if last else None})
    return rows
