"""Cancelling a staged workflow: its jobs deleted, its transfers cancelled, why recorded.

One function for every face (`watcher stage cancel WF`, `POST /api/v1/workflows/WF/cancel`).

It runs directly rather than through the outbox, and is still exactly-once in effect: the
cancel is committed first (the workflow's step becomes `cancelled`, with the reason, and from
then on its jobs' and transfers' news moves nothing: no staging rule releases, cleans up or
mails about a step that was cancelled), then each deletion is idempotent: `qdel` of a job
that finished or that PBS does not know counts as done, and Globus answers a cancel of a
finished task with a code that says so. A cancel cut short (PBS down, a crash) is finished by
cancelling again, which repeats only what is idempotent; a user waiting at a prompt or a
browser sees the outcome at once, which an intent run on the next cycle would not give.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watcher.globus.errors import describe
from watcher.pbs.commands import PbsCommands
from watcher.pbs.errors import FINISHED_JOB_EXIT, UNKNOWN_JOB_EXIT
from watcher.store.db import Store
from watcher.store.watch import unwatch
from watcher.workflows import record
from watcher.workflows.graph_plan import CANCELLED
from watcher.workflows.graph_plan import ENDED as ENDED_STEP

# A TransferClient (anything with `cancel_task`), made only when there is a task to cancel.
TransferFactory = Callable[[], Any]


class CancelRefused(Exception):
    """Nothing was done: no such workflow, or it ended before (the message says which)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Cancelled:
    """What a cancel did (`done`) and what it could not do yet (`failed`: cancel again)."""

    workflow_id: str
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    again: bool = False  # it had been cancelled before: this call finished what was left


def cancel(store: Store, pbs: PbsCommands, transfer: TransferFactory, workflow_id: str,
           reason: str, now: Callable[[], datetime]) -> Cancelled:
    """Cancel `workflow_id` (see the module docstring); raises `CancelRefused`."""
    jobs, tasks, again = _mark(store, workflow_id, reason, now())
    result = Cancelled(workflow_id, again=again)
    for role, job in jobs:
        _qdel(pbs, role, job, result)
    ended = [task for role, task in tasks if _cancel_task(transfer, role, task, result)]
    with store.session() as session:
        wf = record.get(session, workflow_id)
        assert wf is not None  # it was there a moment ago; workflows are never deleted
        for text in result.done + result.failed:
            record.log(session, wf, now(), record.WHOLE, text)
        for task in ended:
            unwatch(session, "globus", task)  # cancelled: nothing more to learn
        record.note_whole(session, wf, "cancel", pending=[*result.failed])
    return result


def _mark(store: Store, workflow_id: str, reason: str, at: datetime
          ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], bool]:
    """Commit the cancel; return the jobs and tasks to delete and whether it was cancelled
    already."""
    with store.session() as session:
        wf = record.get(session, workflow_id)
        if wf is None:
            raise CancelRefused(f"no workflow '{workflow_id}' (see 'watcher status')",
                                code="not_found")
        again = wf.step == CANCELLED
        if wf.step in record.ENDED and not again:
            raise CancelRefused(f"workflow {workflow_id} has already ended ({wf.step}); "
                                "there is nothing to cancel", code="already_ended")
        if not again:
            record.log(session, wf, at, record.WHOLE,
                       f"cancelled: {reason}" if reason else "cancelled")
            record.note_whole(session, wf, "cancel", reason=reason, at=at.isoformat())
            record.set_state(session, wf, CANCELLED, at)
        jobs, tasks = _live_ids(session, wf)
    return jobs, tasks, again


def _live_ids(session: Any, wf: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The current job or task of each step that had not ended (each is marked cancelled,
    so the news of its job or task moves nothing; a cancel again finds them by that mark)."""
    jobs, tasks = [], []
    for section in record.SECTIONS:
        for name, entry in (wf.progress.get(section) or {}).items():
            status = entry.get("status")
            if status in ENDED_STEP and not (status == "cancelled" and entry.get("live")):
                continue
            found = [*(entry.get("jobs") or [])[-1:], *(entry.get("tasks") or [])[-1:]]
            (jobs if entry.get("kind") == "job" else tasks).extend(
                (name, ident) for ident in found)
            record.note(session, wf, section, name, status="cancelled",
                        reason="the workflow was cancelled", live=bool(found))
    return jobs, tasks


def _qdel(pbs: PbsCommands, role: str, job: str, result: Cancelled) -> None:
    outcome = asyncio.run(pbs.run("qdel", job))
    if outcome.ok:
        result.done.append(f"{role} job {job} deleted")
    elif outcome.returncode in (FINISHED_JOB_EXIT, UNKNOWN_JOB_EXIT):
        result.done.append(f"{role} job {job} had already ended")
    else:
        result.failed.append(f"{role} job {job} not deleted: {outcome.describe()}")


def _cancel_task(transfer: TransferFactory, role: str, task: str, result: Cancelled) -> bool:
    """Whether the task has ended now (cancelled by this call or before)."""
    try:
        answer = transfer().cancel_task(task)
    except Exception as exc:  # Globus down, dead credentials: cancel again later
        result.failed.append(f"{role} task {task} not cancelled: {describe(exc)}")
        return False
    if answer.get("code") == "Canceled":
        result.done.append(f"{role} task {task} cancelled")
    else:  # "TaskComplete": it had ended (succeeded, failed or cancelled) before
        result.done.append(f"{role} task {task} had already ended")
    return True
