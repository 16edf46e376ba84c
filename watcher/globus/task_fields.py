"""What a Globus task document means: its statuses and the attributes rules see. Pure, and
free of the SDK, so checking rules (triggers, templates) does not import it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACTIVE, INACTIVE, SUCCEEDED, FAILED = "ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED"
STATUSES = (ACTIVE, INACTIVE, SUCCEEDED, FAILED)
# INACTIVE is not terminal: the task waits for someone to fix credentials, then goes on.
TERMINAL = frozenset({SUCCEEDED, FAILED})

# Copied as they are from the task document. Byte and file counters are kept for templates
# and `watcher status` but are not watched (see `watcher.kinds`).
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


def endpoints_of(tasks: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Both endpoints of every task, for the endpoint probe."""
    return {ep for attrs in tasks.values()
            for ep in (attrs.get("source_endpoint_id"), attrs.get("destination_endpoint_id"))
            if ep}
