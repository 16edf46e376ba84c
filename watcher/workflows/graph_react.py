"""How one event moves a graph workflow's step along (pure): its new progress and log lines.

The tracker finds the step (a job by its WATCHER_WORKFLOW/WATCHER_STEP variables, a task by its
`watcher <workflow> <step>` label) and writes the result in the transaction that records the
event, before the rules see it, so `advance_workflow` (run by the staging rules) reads the step
as the event left it. Log lines carry the time the source says it happened (a job's `stime` and
`obittime`, a task's `completion_time`) when it says one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from watcher.events import VANISHED, Event
from watcher.workflows.graph_plan import ENDED

FINISHED_OK = 92  # substate: finished, and for an array every subjob exited 0

WALLTIME_KILLED = -29


@dataclass
class StepReaction:
    """The step's progress changes and its (time or None, text) log lines."""

    changes: dict[str, Any] = field(default_factory=dict)
    lines: list[tuple[datetime | None, str]] = field(default_factory=list)


def react_job(step: Mapping[str, Any], entry: Mapping[str, Any], event: Event) -> StepReaction:
    """A change of the step's current job."""
    out = StepReaction()
    status = entry.get("status")
    if status in ENDED:
        return out  # a skipped step's job deleted, a cancelled one ending: news only
    if event.change == VANISHED:
        out.changes = {"status": "lost", "reason": f"job {event.subject} is gone from PBS"}
        out.lines.append((None, f"job {event.subject} vanished from PBS"))
        return out
    now, before = event.current or {}, event.previous or {}
    state, was = now.get("state"), before.get("state")
    if state == was:
        return out
    if state == "R" or (state == "B" and was != "B"):
        out.changes = {"status": "running", "started_at": _job_time(now, "stime")}
        out.lines.append((_parse_ctime(_raw(now, "stime")), f"job {event.subject} running"))
    elif state == "Q" and was == "H":
        out.changes = {"status": "queued"}
        out.lines.append((None, f"job {event.subject} released"))
    elif state == "F":
        return _ended(step, entry, event.subject, now)
    return out


def _ended(step: Mapping[str, Any], entry: Mapping[str, Any], job: str,
           attrs: Mapping[str, Any]) -> StepReaction:
    out = StepReaction()
    code = attrs.get("exit_status")
    at = _parse_ctime(_raw(attrs, "obittime"))
    ended = {"ended_at": at.isoformat() if at else None, "exit_status": code}
    started = _job_time(attrs, "stime")
    if started and not entry.get("started_at"):
        ended["started_at"] = started
    if step.get("array") and code == 0 and attrs.get("substate") not in (None, FINISHED_OK):
        # PBS sets an array's Exit_status from the last subjob to end (update_sj_parent());
        # substate 93 (or 91) says that an earlier one failed (or was deleted).
        code = 1  # judged failed; `ended` keeps what PBS said
    what = "array job" if step.get("array") else "job"
    retries = step.get("retries") or {}
    used = dict(entry.get("retries_used") or {})
    if code is None:
        out.changes = {**ended, "status": "failed", "reason": f"job {job} was deleted"}
        out.lines.append((at, f"{what} {job} deleted before it ended"))
    elif code == 0:
        out.changes = {**ended, "status": "succeeded"}
        out.lines.append((at, f"{what} {job} finished (exit 0)"))
    elif code == WALLTIME_KILLED and used.get("walltime", 0) < int(retries.get("walltime", 0)):
        used["walltime"] = used.get("walltime", 0) + 1
        reason = f"job {job} was killed by its walltime"
        out.changes = {**ended, "status": "retry", "reason": reason, "retries_used": used}
        out.lines.append((at, f"{what} {job} killed by its walltime (exit -29); submitting it "
                              f"again (retry {used['walltime']} of {retries.get('walltime')})"))
    elif code in (retries.get("exit_codes") or []) and used.get("exit", 0) < int(
            retries.get("times", 1)):
        used["exit"] = used.get("exit", 0) + 1
        reason = f"job {job} ended with exit {code}, listed for retry"
        out.changes = {**ended, "status": "retry", "reason": reason, "retries_used": used}
        out.lines.append((at, f"{what} {job} ended with exit {code}; submitting it again "
                              f"(retry {used['exit']} of {retries.get('times', 1)})"))
    else:
        why = ("killed by its walltime, no retries left" if code == WALLTIME_KILLED
               else "some subjobs did not exit 0" if step.get("array") else "failed")
        reason = f"job {job} {why} (exit {code})"
        out.changes = {**ended, "status": "failed", "reason": reason}
        out.lines.append((at, f"{what} {job} {why} (exit {code})"))
    return out


def react_task(step: Mapping[str, Any], entry: Mapping[str, Any], event: Event
               ) -> StepReaction:
    """A change of the step's current transfer."""
    out = StepReaction()
    now, before = event.current or {}, event.previous or {}
    status, was = now.get("status"), before.get("status")
    if entry.get("status") in ENDED or event.change == VANISHED or status == was:
        return out
    at = _parse_iso(now.get("completion_time"))
    if status == "INACTIVE":
        out.changes = {"status": "inactive"}
        out.lines.append((None, f"task {event.subject} waits for credentials "
                                f"({now.get('nice_status') or 'INACTIVE'}): run `watcher "
                                "login` or renew the endpoint's consent"))
    elif status == "ACTIVE":
        out.changes = {"status": "active"}
        if was == "INACTIVE":
            out.lines.append((None, f"task {event.subject} resumed"))
    elif status == "SUCCEEDED":
        out.changes = {"status": "succeeded", "ended_at": at.isoformat() if at else None}
        files, size = now.get("files_transferred"), now.get("bytes_transferred") or 0
        out.lines.append((at, f"task {event.subject} succeeded "
                              f"({files if files is not None else '?'} file(s), {size} bytes)"))
    elif status == "FAILED":
        why = why_failed(now)
        attempt, allowed = int(entry.get("attempt", 1)), int(step.get("retries", 0))
        if attempt <= allowed:
            out.changes = {"status": "retry", "reason": f"task {event.subject} failed: {why}"}
            out.lines.append((at, f"task {event.subject} failed: {why}; starting it again "
                                  f"(retry {attempt} of {allowed})"))
        else:
            out.changes = {"status": "failed", "reason": f"task {event.subject} failed: {why}",
                           "ended_at": at.isoformat() if at else None}
            out.lines.append((at, f"task {event.subject} failed: {why}"))
    return out


def _raw(attrs: Mapping[str, Any], key: str) -> Any:
    return attrs.get(key)


def _job_time(attrs: Mapping[str, Any], key: str) -> str | None:
    at = _parse_ctime(_raw(attrs, key))
    return at.isoformat() if at else None


def _parse_ctime(value: Any) -> datetime | None:
    """PBS's `Mon Nov 23 10:48:48 2026` (server local time) as an aware datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %Y").astimezone(UTC)
    except ValueError:
        return None


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def why_failed(attrs: Mapping[str, Any]) -> str:
    """A failed task's reason in a few words: its fatal error, else its nice status."""
    fatal = attrs.get("fatal_error") or {}
    if isinstance(fatal, Mapping) and (fatal.get("code") or fatal.get("description")):
        return f"{fatal.get('code') or 'error'}: {fatal.get('description') or ''}".rstrip(": ")
    return str(attrs.get("nice_status") or "unknown reason")
