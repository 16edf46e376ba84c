"""What running one intent came to, for logs and `watcher run --once`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.actions.base import Outcome
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
        """The report of one run; `recorded` is False when the outcome was not stored."""
        assert intent.id is not None
        retrying = recorded and not outcome.ok and intent.status not in (DONE, DEAD)
        return cls(intent.id, intent.key, intent.rule, intent.action_type, intent.step, subject,
                   intent.status, intent.attempts, outcome, recorded,
                   intent.last_error if recorded else None,
                   intent.next_attempt_at if retrying else None)

    @property
    def detail(self) -> str:
        """The outcome's one-line detail."""
        return self.outcome.detail

    @property
    def dead(self) -> bool:
        """The intent failed for good (`watcher.ledger.failures` tells the rules)."""
        return self.recorded and self.status == DEAD
