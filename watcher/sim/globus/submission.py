"""From a POSTed transfer document to a planned `Task`: validation, then item expansion.

Request errors (unknown endpoint, no items, bad label) are answered at once, as Transfer does.
Problems with the data itself (a missing source file) are found while planning and make the
task fail right after it is accepted (or be skipped, with `skip_source_errors`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from watcher.sim.globus.endpoints import EndpointRegistry
from watcher.sim.globus.errors import ApiError, bad_request
from watcher.sim.globus.model import ECHOED_OPTIONS, FAILED, Task
from watcher.sim.globus.paths import PathError, Plan, local_path, plan_item

DEFAULT_DEADLINE = 24 * 3600
_SYNC_NAMES = {"exists": 0, "size": 1, "mtime": 2, "checksum": 3}


def check_document(doc: dict[str, Any], endpoints: EndpointRegistry) -> None:
    """Reject what Transfer rejects before creating a task."""
    if doc.get("DATA_TYPE") != "transfer":
        raise bad_request("DATA_TYPE must be 'transfer'")
    if not doc.get("submission_id"):
        raise bad_request("a submission_id is required (GET /submission_id)")
    for side in ("source_endpoint", "destination_endpoint"):
        endpoint_id = str(doc.get(side) or "")
        if endpoints.get(_uuid(endpoint_id)) is None:
            raise ApiError(404, "EndpointNotFound", f"No such endpoint: '{endpoint_id}'")
    if not doc.get("DATA"):
        raise ApiError(400, "ClientError.BadRequest.NoTransferItems",
                       "A transfer requires at least one item")
    label = doc.get("label")
    if label is not None and (len(label) > 128 or "\n" in label or "\r" in label
                              or label != label.strip()):
        raise bad_request("label must be at most 128 characters, one line, no outer spaces")


def new_task(doc: dict[str, Any], owner_id: str, now: float) -> Task:
    """A task from a validated submit document, owned by `owner_id`; `plan_task` adds its files."""
    options = {name: bool(doc.get(name, False)) for name in ECHOED_OPTIONS}
    options["filter_rules"] = doc.get("filter_rules")
    return Task(
        task_id=str(uuid.uuid4()),
        owner_id=owner_id,
        submission_id=str(doc["submission_id"]),
        source_endpoint_id=_uuid(str(doc["source_endpoint"])),
        destination_endpoint_id=_uuid(str(doc["destination_endpoint"])),
        request_time=now,
        deadline=_deadline(doc.get("deadline"), now),
        label=doc.get("label"),
        sync_level=_sync_level(doc.get("sync_level")),
        options=options,
    )


def plan_task(task: Task, doc: dict[str, Any], endpoints: EndpointRegistry, now: float) -> None:
    """Expand the items into file copies; a bad item fails the task (or is skipped)."""
    src_ep = endpoints.get(task.source_endpoint_id)
    dst_ep = endpoints.get(task.destination_endpoint_id)
    assert src_ep is not None and dst_ep is not None  # checked by check_document
    plan = Plan()
    for item in doc["DATA"]:
        try:
            plan_item(local_path(src_ep.root, item["source_path"]),
                      local_path(dst_ep.root, item["destination_path"]),
                      item.get("recursive"), task.sync_level,
                      task.options["preserve_timestamp"], plan)
        except PathError as exc:
            task.record(now, exc.code, str(exc), is_error=True,
                        details=f"{item['source_path']} -> {item['destination_path']}")
            task.faults += 1
            if exc.code == "FILE_NOT_FOUND" and task.options["skip_source_errors"]:
                task.files_skipped += 1
                continue
            task.status, task.completion_time = FAILED, now
            task.fatal_error = {"code": exc.code, "description": str(exc)}
            return
    task.items = plan.files
    task.dirs = [str(path) for path in plan.directories]
    task.files_skipped += plan.skipped


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def _deadline(value: Any, now: float) -> float:
    if not value:
        return now + DEFAULT_DEADLINE
    try:
        moment = datetime.fromisoformat(str(value).replace(" ", "T"))
    except ValueError as exc:
        raise bad_request(f"invalid deadline {value!r}") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _sync_level(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value in _SYNC_NAMES:
        return _SYNC_NAMES[value]
    if isinstance(value, int) and 0 <= value <= 3:
        return value
    raise bad_request(f"invalid sync_level {value!r}")
