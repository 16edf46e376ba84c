"""The emulator's task records: plain dataclasses that survive a JSON snapshot.

A task is expanded into file copies when it is submitted (`FileItem`s with a byte offset), so
progress is just `done` counters and a restart resumes each file where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TERMINAL = frozenset({SUCCEEDED, FAILED})

# nice_status values. "OK" and "Queued" are documented; the error names are *unverified*
# guesses modelled on Transfer's error categories (see docs/globus-facts.md).
OK = "OK"
QUEUED = "Queued"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
AUTH = "AUTH"

# Options of a transfer document that the task document echoes back unchanged.
ECHOED_OPTIONS = (
    "verify_checksum",
    "preserve_timestamp",
    "encrypt_data",
    "skip_source_errors",
    "fail_on_quota_errors",
    "delete_destination_extra",
)


@dataclass
class FileItem:
    """One file to copy: local source and destination paths, size, bytes copied so far."""

    src: str
    dst: str
    size: int
    done: int = 0
    mtime: float | None = None  # set when preserve_timestamp asks for the source's mtime

    @property
    def finished(self) -> bool:
        """Whether every byte of the file is copied."""
        return self.done >= self.size


@dataclass
class Task:
    """One TRANSFER task. Counters shown in the task document are derived from `items`."""

    task_id: str
    owner_id: str
    submission_id: str
    source_endpoint_id: str
    destination_endpoint_id: str
    request_time: float
    deadline: float
    label: str | None = None
    sync_level: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    type: str = "TRANSFER"
    status: str = ACTIVE
    nice_status: str | None = QUEUED
    is_paused: bool = False
    items: list[FileItem] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)  # destination directories to create
    started: bool = False
    files_skipped: int = 0
    faults: int = 0
    fatal_error: dict[str, str] | None = None
    completion_time: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        """Whether the task ended (SUCCEEDED or FAILED); it changes no more."""
        return self.status in TERMINAL

    @property
    def directories(self) -> int:
        """How many directories the task makes, as `directories` in its document."""
        return len(self.dirs)

    @property
    def bytes_transferred(self) -> int:
        """Bytes copied so far, over every file."""
        return sum(item.done for item in self.items)

    @property
    def files_transferred(self) -> int:
        """Files copied completely so far."""
        return sum(1 for item in self.items if item.finished)

    @property
    def endpoints(self) -> tuple[str, str]:
        """(source, destination) endpoint ids."""
        return (self.source_endpoint_id, self.destination_endpoint_id)

    def record(self, now: float, code: str, description: str, *, is_error: bool = False,
               details: str = "") -> None:
        """Append one event to the task's event list (served newest first)."""
        self.events.append({"time": now, "code": code, "description": description,
                            "details": details, "is_error": is_error})

    def next_item(self) -> FileItem | None:
        """The first file not yet copied completely, or None when all are."""
        return next((item for item in self.items if not item.finished), None)

    def to_dict(self) -> dict[str, Any]:
        """The snapshot form; `from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        """The inverse of `to_dict`."""
        fields = dict(data)
        fields["items"] = [FileItem(**item) for item in fields.get("items", [])]
        return cls(**fields)
