"""The emulated Transfer service's tasks: submit (exactly once per submission id), cancel, read,
and `tick`, which moves bytes for the tasks allowed to run and applies the lasting faults.

Not thread-safe by itself: `Emulator` holds one lock around every call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watcher.sim.globus.endpoints import EndpointRegistry
from watcher.sim.globus.errors import ApiError, consent_required
from watcher.sim.globus.faults import Faults
from watcher.sim.globus.model import (
    ACTIVE,
    AUTH,
    FAILED,
    INACTIVE,
    OK,
    QUEUED,
    QUOTA_EXCEEDED,
    SUCCEEDED,
    Task,
)
from watcher.sim.globus.progress import MAX_ACTIVE_PER_USER, QuotaMeter, copy_chunk, queue_order
from watcher.sim.globus.submission import check_document, new_task, plan_task


class Transfers:
    """Tasks by id, submission ids already used, and the byte-moving loop body."""

    def __init__(self, endpoints: EndpointRegistry, faults: Faults, clock: Callable[[], float],
                 bandwidth: float) -> None:
        self.endpoints = endpoints
        self.faults = faults
        self.clock = clock
        self.bandwidth = bandwidth  # bytes per second, for each running task
        self.tasks: dict[str, Task] = {}
        self.submissions: dict[str, str] = {}
        self.quota = QuotaMeter(clock)
        self._carry: dict[str, float] = {}

    def submit(self, owner_id: str, doc: dict[str, Any]) -> tuple[Task, bool]:
        """The task for this document and whether it is a duplicate of an earlier submission."""
        known = self.submissions.get(str(doc.get("submission_id") or ""))
        if known is not None:
            return self.tasks[known], True
        check_document(doc, self.endpoints)
        now = self.clock()
        task = new_task(doc, owner_id, now)
        expired = [ep for ep in dict.fromkeys(task.endpoints)
                   if self.faults.credentials_expired(owner_id, ep)]
        if expired:
            raise consent_required(expired)
        plan_task(task, doc, self.endpoints, now)
        if not task.terminal:
            self._apply_lasting_faults(task)  # born paused if its endpoint is paused
        self.tasks[task.task_id] = task
        self.submissions[task.submission_id] = task.task_id
        return task, False

    def owned(self, owner_id: str, task_id: str) -> Task:
        """The task if `owner_id` owns it; ApiError 404 when unknown, 403 when not theirs."""
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiError(404, "TaskNotFound", f"Task '{task_id}' not found")
        if task.owner_id != owner_id:
            raise ApiError(403, "PermissionDenied", f"You do not own task '{task_id}'")
        return task

    def of_owner(self, owner_id: str) -> list[Task]:
        """The owner's tasks, in submission order."""
        return [task for task in self.tasks.values() if task.owner_id == owner_id]

    def cancel(self, task: Task) -> tuple[str, str]:
        """(code, message) as Transfer's cancel answers; a cancelled task ends FAILED."""
        if task.terminal:
            return "TaskComplete", "The task had already completed."
        self.finish(task, FAILED, {"code": "CANCELED",
                                   "description": "The task was canceled by its owner"})
        return "Canceled", "The task has been cancelled successfully."

    def finish(self, task: Task, status: str, fatal_error: dict[str, str] | None) -> None:
        """End the task with `status` now, recording its last event."""
        now = self.clock()
        task.status, task.completion_time, task.fatal_error = status, now, fatal_error
        task.is_paused = False
        code = fatal_error["code"] if fatal_error else SUCCEEDED
        task.record(now, code, fatal_error["description"] if fatal_error else "succeeded",
                    is_error=status == FAILED and code != "CANCELED",
                    details=finish_details(task))
        self._carry.pop(task.task_id, None)

    def tick(self, dt: float) -> bool:
        """One step of the world: apply faults and deadlines, then move bytes.

        Returns whether any task was live (so the state may have changed)."""
        live = [task for task in self.tasks.values() if not task.terminal]
        for task in live:
            self._apply_lasting_faults(task)
        runnable = [t for t in live if t.status == ACTIVE and not t.is_paused and not t.terminal]
        for tasks in queue_order(runnable).values():
            slots = MAX_ACTIVE_PER_USER
            for task in tasks:
                if slots == 0:
                    task.nice_status = QUEUED if task.nice_status == OK else task.nice_status
                    continue
                if self._advance(task, dt):
                    slots -= 1
        return bool(live)

    def apply_faults(self) -> None:
        """Show a new or lifted fault on every live task now, not at the next tick: a task
        document read (or a snapshot saved) right after `pause_endpoint` already says so."""
        for task in self.tasks.values():
            if not task.terminal:
                self._apply_lasting_faults(task)

    def _apply_lasting_faults(self, task: Task) -> None:
        now = self.clock()
        if now >= task.deadline:
            self.finish(task, FAILED, {"code": "DEADLINE_EXCEEDED",
                                       "description": "The task's deadline passed"})
            return
        expired = any(self.faults.credentials_expired(task.owner_id, ep) for ep in task.endpoints)
        if expired and task.status == ACTIVE:
            task.status, task.nice_status, task.faults = INACTIVE, AUTH, task.faults + 1
            task.record(now, AUTH, "Credentials for an endpoint expired: consent required",
                        is_error=True, details=consent_details(
                            [ep for ep in task.endpoints
                             if self.faults.credentials_expired(task.owner_id, ep)]))
        elif not expired and task.status == INACTIVE:
            task.status, task.nice_status = ACTIVE, QUEUED
            task.record(now, "RESUMED", "Credentials restored",
                        details="The credentials or consents the task needs are valid again")
        paused = any(ep in self.faults.paused for ep in task.endpoints)
        if paused != task.is_paused:
            task.is_paused = paused
            task.record(now, "PAUSED" if paused else "UNPAUSED",
                        "An endpoint administrator paused the task" if paused else "unpaused",
                        details=json.dumps({"paused_endpoints": sorted(
                            ep for ep in task.endpoints if ep in self.faults.paused)}))
            if paused and task.nice_status == OK:
                task.nice_status = QUEUED

    def _advance(self, task: Task, dt: float) -> bool:
        """Move up to a tick's worth of bytes; False if the task could not use its slot."""
        now = self.clock()
        if not task.started:
            for folder in task.dirs:
                Path(folder).mkdir(parents=True, exist_ok=True)
            task.started = True
            task.record(now, "STARTED", "Task started", details=json.dumps(
                {"type": "GridFTP Transfer", "concurrency": 1, "protocol": "Globus"}))
        budget = self._carry.pop(task.task_id, 0.0) + self.bandwidth * dt
        dst = self.endpoints.get(task.destination_endpoint_id)
        assert dst is not None
        while (item := task.next_item()) is not None:
            room = self.quota.room(dst.id, dst.root, self.faults.quotas.get(dst.id))
            if room == 0:
                return self._quota_blocked(task)
            want = int(min(budget, item.size - item.done, room if room is not None else budget))
            if want <= 0 and item.size > item.done:
                self._carry[task.task_id] = budget
                break
            try:
                moved = copy_chunk(item, want)
            except OSError as exc:
                return self._copy_failed(task, exc)
            self.quota.wrote(dst.id, moved)
            budget -= moved
        task.nice_status = OK
        if task.next_item() is None:
            self.finish(task, SUCCEEDED, None)
        return True

    def _quota_blocked(self, task: Task) -> bool:
        if task.nice_status != QUOTA_EXCEEDED:
            task.nice_status, task.faults = QUOTA_EXCEEDED, task.faults + 1
            task.record(self.clock(), QUOTA_EXCEEDED, "Destination quota exceeded",
                        is_error=True, details=error_details(
                            task, "Disk quota exceeded on the destination endpoint"))
        if task.options.get("fail_on_quota_errors"):
            self.finish(task, FAILED, {"code": QUOTA_EXCEEDED,
                                       "description": "Destination quota exceeded"})
        return False

    def _copy_failed(self, task: Task, exc: OSError) -> bool:
        item = task.next_item()
        if isinstance(exc, FileNotFoundError) and item and not Path(item.src).exists():
            self.finish(task, FAILED, {"code": "FILE_NOT_FOUND",
                                       "description": f"No such file: {Path(item.src).name}"})
            return False
        if task.nice_status != "ENDPOINT_ERROR":
            task.nice_status, task.faults = "ENDPOINT_ERROR", task.faults + 1
            task.record(self.clock(), "ENDPOINT_ERROR", str(exc), is_error=True,
                        details=error_details(task, str(exc)))
        return False


def finish_details(task: Task) -> str:
    """The end event's details: the task's counters, as Transfer puts them in JSON text."""
    return json.dumps({"files_succeeded": task.files_transferred,
                       "files_skipped": task.files_skipped,
                       "bytes_transferred": task.bytes_transferred,
                       **({"error": task.fatal_error} if task.fatal_error else {})})


def consent_details(endpoints: list[str]) -> str:
    """The `error_data` of a ConsentRequired: the data_access scopes the endpoints need."""
    scopes = [f"urn:globus:auth:scope:transfer.api.globus.org:all"
              f"[*https://auth.globus.org/scopes/{ep}/data_access]" for ep in endpoints]
    return json.dumps({"code": "ConsentRequired", "required_scopes": scopes})


def error_details(task: Task, message: str) -> str:
    """A transfer error's details, in the lines Transfer shows (`globus task event-list`)."""
    item = task.next_item()
    return "\n".join([
        "Error (transfer)",
        f"Endpoint: {task.destination_endpoint_id}",
        "Server: 127.0.0.1:2811",
        f"File: {item.dst if item else '-'}",
        f"Message: {message}",
    ])
