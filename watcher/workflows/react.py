"""How one event moves a workflow along (pure): the sub-step's new progress and log lines.

The tracker (`watcher.workflows.tracker`) finds the workflow and the role the event's subject
plays in it (compute, cleanup, stage-in, stage-out), calls `react`, and writes the result in the
transaction that records the event, before the rules see it: a rule firing on that event reads
the workflow as the event left it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.events import VANISHED, Event
from watcher.workflows.plan import WALLTIME_KILLED
from watcher.workflows.record import (
    CLEANUP,
    CREDENTIALS,
    DONE,
    FAILED,
    RUNNING,
    STAGE_IN,
    STAGE_OUT,
)


@dataclass(frozen=True)
class Situation:
    """What `react` needs to know about the workflow."""

    step: str
    progress: Mapping[str, Any]
    has_cleanup: bool
    has_stage_out: bool
    walltime_retries: int


@dataclass
class Reaction:
    """Progress changes per sub-step and (step, text) log lines."""

    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: list[tuple[str, str]] = field(default_factory=list)


def react(wf: Situation, role: str, event: Event) -> Reaction:
    """The reaction to `event` about the current job or task of `role`."""
    if role in ("compute", "cleanup"):
        return _job(wf, role, event)
    return _task(wf, role.replace("-", "_"), event)


def _job(wf: Situation, role: str, event: Event) -> Reaction:
    out = Reaction()
    subject = event.subject
    if event.change == VANISHED:
        out.notes[role] = {"status": "lost"}
        out.lines.append((wf.step, f"{role} {subject} vanished from PBS"))
        return out
    now, before = event.current or {}, event.previous or {}
    state, was = now.get("state"), before.get("state")
    if state == was:
        return out
    if state == "F":
        return _ended(wf, role, subject, now.get("exit_status"))
    if state == "R":
        out.notes[role] = {"status": "running"}
        out.lines.append((RUNNING if role == "compute" else CLEANUP, f"{role} {subject} running"))
    elif state == "Q" and was == "H":
        out.notes[role] = {"status": "queued"}
        out.lines.append((wf.step, f"{role} {subject} released"))
    return out


def _ended(wf: Situation, role: str, subject: str, exit_status: Any) -> Reaction:
    out = Reaction()
    failed_step = CLEANUP if wf.has_cleanup else FAILED
    if exit_status is None:
        out.notes[role] = {"status": "deleted"}
        out.lines.append((wf.step, f"{role} {subject} deleted"))
    elif role == "cleanup":
        out.notes[role] = {"status": "done" if exit_status == 0 else "failed"}
        out.lines.append((FAILED, f"cleanup {subject} finished (exit {exit_status})"))
    elif exit_status == 0:
        out.notes[role] = {"status": "done"}
        out.lines.append((STAGE_OUT if wf.has_stage_out else DONE,
                          f"compute {subject} finished (exit 0)"))
    elif exit_status == WALLTIME_KILLED and _retries_left(wf):
        out.notes[role] = {"status": "killed"}
        out.lines.append((RUNNING, f"compute {subject} killed by its walltime (exit -29); "
                                   "submitting it again"))
    else:
        out.notes[role] = {"status": "failed"}
        why = "killed by its walltime, no retries left" if exit_status == WALLTIME_KILLED \
            else "failed"
        out.lines.append((failed_step, f"compute {subject} {why} (exit {exit_status})"))
    return out


def _retries_left(wf: Situation) -> bool:
    used = int(wf.progress.get("compute", {}).get("walltime_retries", 0))
    return used < wf.walltime_retries


def _task(wf: Situation, part: str, event: Event) -> Reaction:
    out = Reaction()
    name = part.replace("_", "-")
    now, before = event.current or {}, event.previous or {}
    status, was = now.get("status"), before.get("status")
    if event.change == VANISHED or status == was:
        return out
    entry = wf.progress.get(part, {})
    out.notes[part] = {"status": status.lower() if isinstance(status, str) else status,
                       "task": event.subject, **_counts(now)}
    if part == "stage_out" and entry.get("status") in (None, "pending"):
        out.lines.append((STAGE_OUT, f"stage-out started: Globus task {event.subject}"))
    if status == "INACTIVE":
        out.lines.append((CREDENTIALS, f"{name} task {event.subject} waits for credentials "
                                       f"({now.get('nice_status') or 'INACTIVE'}): run "
                                       "`watcher login` or renew the endpoint's consent"))
    elif status == "ACTIVE" and was == "INACTIVE":
        out.lines.append((STAGE_IN if part == "stage_in" else STAGE_OUT, f"{name} resumed"))
    elif status == "SUCCEEDED":
        out.lines.append((RUNNING if part == "stage_in" else DONE,
                          f"{name} succeeded ({_size(now)})"))
    elif status == "FAILED":
        fail_step = (CLEANUP if wf.has_cleanup else FAILED) if part == "stage_in" else FAILED
        out.lines.append((fail_step, f"{name} failed: {why_failed(now)}"))
    return out


def _counts(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: attrs.get(key) for key in ("nice_status", "files", "bytes_transferred")
            if attrs.get(key) is not None}


def _size(attrs: Mapping[str, Any]) -> str:
    files, nbytes = attrs.get("files_transferred"), attrs.get("bytes_transferred")
    return f"{files if files is not None else '?'} file(s), {nbytes or 0} bytes"


def why_failed(attrs: Mapping[str, Any]) -> str:
    """A failed task's reason in a few words: its fatal error, else its nice status."""
    fatal = attrs.get("fatal_error") or {}
    if isinstance(fatal, Mapping) and (fatal.get("code") or fatal.get("description")):
        return f"{fatal.get('code') or 'error'}: {fatal.get('description') or ''}".rstrip(": ")
    return str(attrs.get("nice_status") or "unknown reason")
