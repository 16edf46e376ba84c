"""Watched Globus tasks: fetched in chunks with `task_list`, never one `get_task` per task.

`task_list(filter={"task_id": [a, b, c]})` sends `filter=task_id:a,b,c` and answers every listed
task the user owns in one page (`limit` = the chunk). N watched tasks cost ceil(N / chunk)
requests per poll, which keeps a user well inside Globus's ~20 requests/s. A task not in the
answer (another user's, or a mistyped id) is simply absent: the diff counts it as missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import globus_sdk

ACTIVE, INACTIVE, SUCCEEDED, FAILED = "ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED"
STATUSES = (ACTIVE, INACTIVE, SUCCEEDED, FAILED)
# INACTIVE is not terminal: the task waits for someone to fix credentials, then goes on.
TERMINAL = frozenset({SUCCEEDED, FAILED})

# Copied as they are from the task document. Byte and file counters are kept for templates
# and `watcher status` but are not watched (see `watcher.state.diff.WATCHED_FIELDS`).
_COPIED = (
    "task_id", "type", "status", "nice_status", "nice_status_short_description", "label",
    "is_paused", "fatal_error", "bytes_transferred", "files", "files_transferred",
    "files_skipped", "faults", "source_endpoint_id", "destination_endpoint_id",
    "source_endpoint_display_name", "destination_endpoint_display_name", "request_time",
    "completion_time", "deadline",
)


def task_attributes(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of one task document (absent fields are None)."""
    attrs = {name: doc.get(name) for name in _COPIED}
    fatal = attrs["fatal_error"]
    if isinstance(fatal, Mapping):
        attrs["fatal_error"] = {"code": fatal.get("code"), "description": fatal.get("description")}
    attrs["is_paused"] = bool(attrs["is_paused"])
    return attrs


def chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def fetch_tasks(client: globus_sdk.TransferClient, ids: Sequence[str], chunk: int
                ) -> tuple[list[dict[str, Any]], int]:
    """The task documents of `ids` (those the user owns), and how many requests that took.

    Raises the SDK's errors; a failed chunk fails the whole fetch, because tasks of an
    unanswered chunk are unknown, not missing.
    """
    docs: list[dict[str, Any]] = []
    requests = 0
    for part in chunks(ids, chunk):
        answer = client.task_list(filter={"task_id": part}, limit=len(part))
        requests += 1
        docs.extend(dict(doc) for doc in answer["DATA"])
    return docs, requests


def endpoints_of(tasks: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Both endpoints of every task, for the endpoint probe."""
    return {ep for attrs in tasks.values()
            for ep in (attrs.get("source_endpoint_id"), attrs.get("destination_endpoint_id"))
            if ep}
