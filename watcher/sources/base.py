"""The interface every source implements: one coroutine that returns one observation.

An observation is either an answer (`ok=True`: these subjects exist with these attributes) or
no answer (`ok=False`: the source could not be asked or did not reply). "Unknown is not change":
a failed poll carries no subjects, and nothing may read its empty `subjects` as "all vanished".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Observation:
    """What one poll of one source saw.

    `subjects` maps each subject id (a job id, a task id) to its attributes. `missing_ok` holds
    ids the source positively said it does not know (qstat's "Unknown Job Id" in a healthy
    answer): they count as missing, like ids it did not list. `unreadable` holds ids the source
    listed but whose record could not be read this time (a garbled job): neither present nor
    missing, so they neither change nor vanish. `detail` is for logs and `watcher status`.
    """

    source: str
    ok: bool
    at: datetime
    subjects: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_ok: set[str] = field(default_factory=set)
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.ok and (self.subjects or self.missing_ok or self.unreadable):
            raise ValueError("a failed observation carries no subjects")

    @classmethod
    def failed(
        cls, source: str, at: datetime, error: str, detail: dict[str, Any] | None = None
    ) -> Observation:
        """No answer from the source: nothing about any subject is known."""
        return cls(source, False, at, error=error, detail=detail or {})


class Source(ABC):
    """A thing the watcher polls. `name` keys its snapshots and health; `kind` its events."""

    name: str
    kind: str

    @abstractmethod
    async def poll(self) -> Observation:
        """Ask the source once. Failures are returned as `Observation.failed`, never raised."""

    def resume(self) -> None:
        """Forget what this object remembers from its own earlier polls: another instance
        polled the source meanwhile (several instances share a PostgreSQL store), so it
        describes a past the store has moved on from. Most sources remember nothing."""
        return None
