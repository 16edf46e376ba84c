"""Globus-shaped JSON documents, built from emulator records. Pure functions, no I/O.

Key sets follow the payloads globus-sdk ships in `globus_sdk.testing.data.transfer` (a test
compares them), so code written against the emulator reads real responses the same way.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from watcher.sim.globus.model import ACTIVE, ECHOED_OPTIONS, OK, QUEUED, Task

_SHORT = {OK: "OK", QUEUED: "Queued", "QUOTA_EXCEEDED": "Quota exceeded",
          "AUTH": "Credentials expired"}


def iso(ts: float | None) -> str | None:
    """Transfer's timestamp format: `2021-09-02T18:04:49+00:00`."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def request_id() -> str:
    """A 9-character request id like those Globus puts in its error documents."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(9))


def transfer_error(code: str, message: str, resource: str, **extra: Any) -> dict[str, Any]:
    """The body of every Transfer error: code, message, request_id, resource."""
    return {"code": code, "message": message, "request_id": request_id(),
            "resource": resource, **extra}


def task_doc(task: Task, names: Callable[[str], str], now: float) -> dict[str, Any]:
    """The task document of GET /task/{id} and of each task_list entry."""
    running = task.status == ACTIVE and task.nice_status == OK
    elapsed = max((task.completion_time or now) - task.request_time, 1e-3)
    succeeded = task.files_transferred + task.files_skipped + task.directories
    total = len(task.items) + task.files_skipped + task.directories + 1
    failed = 1 if task.fatal_error and task.fatal_error["code"] != "CANCELED" else 0
    canceled = 1 if task.fatal_error and task.fatal_error["code"] == "CANCELED" else 0
    expired = 1 if task.fatal_error and task.fatal_error["code"] == "DEADLINE_EXCEEDED" else 0
    pending = 0 if task.terminal else total - succeeded - 1
    return {
        "DATA_TYPE": "task",
        "task_id": task.task_id,
        "type": task.type,
        "status": task.status,
        "label": task.label,
        "owner_id": task.owner_id,
        "username": f"u_{task.owner_id.replace('-', '')[:26]}",
        "command": "API 0.10",
        "request_time": iso(task.request_time),
        "completion_time": iso(task.completion_time),
        "deadline": iso(task.deadline),
        "source_endpoint": task.source_endpoint_id,
        "source_endpoint_id": task.source_endpoint_id,
        "source_endpoint_display_name": names(task.source_endpoint_id),
        "destination_endpoint": task.destination_endpoint_id,
        "destination_endpoint_id": task.destination_endpoint_id,
        "destination_endpoint_display_name": names(task.destination_endpoint_id),
        "sync_level": task.sync_level,
        **{name: bool(task.options.get(name, False)) for name in ECHOED_OPTIONS},
        "filter_rules": task.options.get("filter_rules"),
        "recursive_symlinks": task.options.get("recursive_symlinks", "ignore"),
        "files": len(task.items) + task.files_skipped,
        "files_transferred": task.files_transferred,
        "files_skipped": task.files_skipped,
        "directories": task.directories,
        "symlinks": 0,
        "bytes_transferred": task.bytes_transferred,
        "bytes_checksummed": 0,
        "effective_bytes_per_second": int(task.bytes_transferred / elapsed),
        "faults": task.faults,
        "fatal_error": task.fatal_error,
        "is_paused": task.is_paused,
        "is_ok": None if task.terminal else task.nice_status in (OK, QUEUED),
        "nice_status": None if task.terminal else task.nice_status,
        "nice_status_short_description": None if task.terminal else _SHORT.get(
            task.nice_status or "", task.nice_status),
        "nice_status_details": _details(task),
        "nice_status_expires_in": None if task.terminal or running else -1,
        "canceled_by_admin": None,
        "canceled_by_admin_message": None,
        "history_deleted": False,
        "subtasks_total": total,
        "subtasks_succeeded": succeeded + (1 if task.items or task.terminal else 0),
        "subtasks_pending": max(pending, 0),
        "subtasks_retrying": 0 if task.nice_status in (OK, QUEUED, None) else 1,
        "subtasks_failed": failed,
        "subtasks_canceled": canceled,
        "subtasks_expired": expired,
        "subtasks_skipped_errors": 0,
    }


def _details(task: Task) -> str | None:
    if task.terminal or task.nice_status in (OK, QUEUED, None):
        return None
    errors = [event for event in task.events if event["is_error"]]
    return errors[-1]["description"] if errors else None


def event_doc(event: Mapping[str, Any]) -> dict[str, Any]:
    """A task event as the event_list API returns it."""
    return {"DATA_TYPE": "event", "code": event["code"], "description": event["description"],
            "details": event["details"], "is_error": event["is_error"],
            "time": iso(event["time"])}


def submit_result(task: Task, duplicate: bool) -> dict[str, Any]:
    """POST /transfer's answer; a reused submission_id gets "Duplicate" (package docstring)."""
    message = (
        f"A transfer with submission id '{task.submission_id}' was already submitted"
        if duplicate else
        "The transfer has been accepted and a task has been created and queued for execution"
    )
    return {
        "DATA_TYPE": "transfer_result",
        "code": "Duplicate" if duplicate else "Accepted",
        "message": message,
        "request_id": request_id(),
        "resource": "/v0.10/transfer",
        "submission_id": task.submission_id,
        "task_id": task.task_id,
        "task_link": {"DATA_TYPE": "link", "href": f"/v0.10/task/{task.task_id}?format=json",
                      "rel": "related", "resource": "task", "title": "related task"},
    }


def list_doc(data_type: str, items: list[dict[str, Any]], *, limit: int, offset: int,
             total: int) -> dict[str, Any]:
    """A paged list document (`task_list`, `event_list`): DATA plus its paging fields."""
    return {"DATA_TYPE": data_type, "DATA": items, "length": len(items), "limit": limit,
            "offset": offset, "total": total}
