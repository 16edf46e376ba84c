"""What running one intent came to, for logs, `status` and `action_failed` events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actions.base import Outcome
from watcher.events import ACTION_FAILED, CHANGED, Event
from watcher.store.models import DEAD, DONE, Intent


@dataclass(frozen=True)
class RunReport:
    """One executed intent. `status` is what was recorded (`done`, `pending` for a retry, or
    `dead`); when `recorded` is False another worker took the intent over and its run counts."""

    intent_id: int
    key: str
    rule: str
    action_type: str
    step: int
    subject: str | None
    status: str
    attempts: int
    outcome: Outcome
    recorded: bool
    error: str | None = None
    next_attempt_at: datetime | None = None

    @classmethod
    def of(cls, intent: Intent, outcome: Outcome, subject: str | None, *,
           recorded: bool) -> RunReport:
        assert intent.id is not None
        retrying = recorded and not outcome.ok and intent.status not in (DONE, DEAD)
        return cls(intent.id, intent.key, intent.rule, intent.action_type, intent.step, subject,
                   intent.status, intent.attempts, outcome, recorded,
                   intent.last_error if recorded else None,
                   intent.next_attempt_at if retrying else None)

    @property
    def detail(self) -> str:
        return self.outcome.detail

    @property
    def dead(self) -> bool:
        """The intent failed for good: the engine turns this into an `action_failed` event."""
        return self.recorded and self.status == DEAD

    def failed_event(self, at: datetime) -> Event:
        """The `action_failed` event for a dead intent; its subject is the firing's subject."""
        data = {"rule": self.rule, "action": self.action_type, "step": self.step,
                "key": self.key, "attempts": self.attempts, "error": self.error or self.detail}
        return Event(ACTION_FAILED, self.subject or self.key, at, CHANGED, None, data, data)
