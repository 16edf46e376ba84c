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
    """`at` in UTC as `YYYY-MM-DD HH:MM:SS` (no zone suffix; callers add ` UTC`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def log_line(line: WorkflowLog) -> str:
    """`2026-05-01 12:00:03 UTC  stage-in     started: Globus task …`."""
    return f"{when(line.at)} UTC  {line.step:<11}  {line.text}"


def header(wf: Workflow) -> str:
    """One line: id, name, state, the step summary, workdir."""
    return f"Workflow {wf.id} ({wf.name}), now {wf.step}: {step_summary(wf)}; in {wf.workdir}"


def graph_steps(wf: Workflow) -> list[dict[str, Any]]:
    """Each step of a graph workflow: name, kind, status, after, ids, attempts, times, why.
    `on_failure` steps follow the others, with `on_failure: true`."""
    rows = []
    for section in ("steps", "on_failure"):
        for name, step in (wf.spec.get(section) or {}).items():
            entry = (wf.progress.get(section) or {}).get(name) or {}
            ids = list(entry.get("jobs") or entry.get("tasks") or [])
            rows.append({
                "name": name, "kind": step["kind"], "array": bool(step.get("array")),
                "status": ("not needed" if section == "on_failure" and wf.step == "done"
                           else entry.get("status", "pending")),
                "after": list(step.get("after") or []),
                "ids": ids, "attempts": len(ids), "on_failure": section == "on_failure",
                "started_at": entry.get("started_at"), "ended_at": entry.get("ended_at"),
                "exit_status": entry.get("exit_status"), "reason": entry.get("reason")})
    return rows


def step_summary(wf: Workflow) -> str:
    """`4 of 6 steps succeeded; prep running, sim held` (for status and the header)."""
    rows = [row for row in graph_steps(wf) if not row["on_failure"]]
    good = sum(row["status"] == "succeeded" for row in rows)
    busy = [f"{row['name']} {row['status']}" for row in rows
            if row["status"] not in ("succeeded", "pending")]
    return f"{good} of {len(rows)} steps succeeded" + (f"; {', '.join(busy)}" if busy else "")


def graph_table(wf: Workflow) -> list[str]:
    """The steps as aligned text lines, for `watcher history WF`."""
    rows = graph_steps(wf)
    width = max([4, *(len(row["name"]) for row in rows)])
    out = [f"  {'step':<{width}}  {'kind':<8}  {'status':<10}  {'tries':>5}  "
           f"{'started (UTC)':<19}  {'ended (UTC)':<19}  ids / after / why"]
    for row in rows:
        extra = ", ".join(row["ids"]) or "-"
        if row["after"]:
            extra += f"; after {', '.join(row['after'])}"
        if row["on_failure"]:
            extra += "; on_failure"
        if row["reason"] and row["status"] != "succeeded":
            extra += f"; {row['reason']}"
        kind = "array" if row["array"] else row["kind"]
        out.append(f"  {row['name']:<{width}}  {kind:<8}  {row['status']:<10}  "
                   f"{row['attempts']:>5}  {_short(row['started_at']):<19}  "
                   f"{_short(row['ended_at']):<19}  {extra}")
    return out


def _short(iso: Any) -> str:
    if not iso:
        return "-"
    try:
        return when(datetime.fromisoformat(str(iso)))
    except ValueError:
        return str(iso)


def history(session: Session, workflow_id: str) -> tuple[Workflow, list[WorkflowLog]] | None:
    """The workflow and its step log, oldest first; None when there is no such workflow."""
    wf = record.get(session, workflow_id)
    return None if wf is None else (wf, list(record.lines(session, workflow_id)))


def age(since: datetime, now: datetime) -> str:
    """Whole seconds since `since` as `1h30m` (`format_duration`); never negative."""
    return format_duration(timedelta(seconds=max(0, int((now - since).total_seconds()))))


def current_ids(wf: Workflow) -> tuple[dict[str, str], dict[str, str]]:
    """Each step's current job and current task (its latest), by step name."""
    jobs, tasks = {}, {}
    for section in record.SECTIONS:
        for name, entry in (wf.progress.get(section) or {}).items():
            if entry.get("jobs"):
                jobs[name] = str(entry["jobs"][-1])
            if entry.get("tasks"):
                tasks[name] = str(entry["tasks"][-1])
    return jobs, tasks


def workflow_row(session: Session, wf: Workflow, now: datetime) -> dict[str, Any]:
    """One workflow as `watcher status` lists it: id, name, state, age, its steps' summary and
    current ids, and the last log line."""
    lines = record.lines(session, wf.id)
    last = lines[-1] if lines else None
    jobs, tasks = current_ids(wf)
    return {"id": wf.id, "name": wf.name, "step": wf.step, "age": age(wf.created_at, now),
            "created_at": wf.created_at, "summary": step_summary(wf), "jobs": jobs,
            "tasks": tasks, "last_event": last.text if last else None,
            "last_event_at": last.at if last else None}


def workflow_rows(session: Session, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The most recently active workflows, newest first (`workflow_row` each)."""
    return [workflow_row(session, wf, now) for wf in record.recent(session, limit)]
