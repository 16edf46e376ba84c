"""Events: what the state layer hands to the engine after diffing two observations.

An event is pure data. `previous` and `current` are the subject's attributes before and after
(either may be None: a subject that appeared, or one that vanished), so the engine can evaluate a
trigger on both sides and fire on edges (entering a condition), not on levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Event kinds. A trigger type listens to one or more of these.
PBS_JOB = "pbs_job"  # a job's attributes changed, it appeared, or it vanished
GLOBUS_TASK = "globus_task"
GLOBUS_ENDPOINT = "globus_endpoint"
QUOTA = "quota"
SOURCE_DOWN = "source_down"
SOURCE_UP = "source_up"
CREDENTIALS_EXPIRED = "credentials_expired"
ACTION_FAILED = "action_failed"
RULES_INVALID = "rules_invalid"  # a rule file the service reloads is invalid (or fixed)

# Changes, for PBS_JOB / GLOBUS_TASK events.
APPEARED = "appeared"
CHANGED = "changed"
VANISHED = "vanished"


@dataclass(frozen=True)
class Event:
    """One observed change of one subject (a job id, a task id, a source name...)."""

    kind: str
    subject: str
    at: datetime
    change: str = CHANGED
    previous: Mapping[str, Any] | None = None
    current: Mapping[str, Any] | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A stable identity for idempotency keys: kind, subject and time of observation."""
        return f"{self.kind}:{self.subject}:{self.at.isoformat()}"
