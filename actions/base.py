"""The interface every action implements: a params model and one coroutine.

An action module `watcher.actions.<name>` defines `Params` (a pydantic model; unknown keys are
rejected) and `async def execute(ctx, params) -> Outcome`; the registry (`watcher.actions`)
names it once. Parameters reach `execute` already rendered from their templates and validated.
`Outcome.retryable` separates passing faults (server down, 5xx) from permanent ones (unknown
job, permission denied, a service the watcher runs without), which are not retried.

Checking a rule file (`watcher rules check`) imports an action's module for its `Params`
alone, so a module's top level imports only what its `Params` need; what only `execute` needs
and is heavy (the store and SQLAlchemy, the Globus SDK, the SMTP client) is imported inside the
function that uses it, marked "late". tests/cli/rules/test_check_imports.py keeps it so.

Helpers some actions share live in modules of their own: `effects` (journaling an effect that
cannot be repeated), `pbs_outcome` (a PBS command's exit code as an outcome), `digest`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # types only: checking a rule file must not import the store or the SDK
    from globus_sdk import TransferClient

    from watcher.mail.settings import SmtpSettings
    from watcher.pbs.commands import PbsCommands
    from watcher.store.db import Store


class ActionParams(BaseModel):
    """Base of every action's parameters: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Outcome:
    """What an action did. `facts` are new things later rules can use (a job id, a task id)."""

    ok: bool
    detail: str = ""
    retryable: bool = False
    facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def done(cls, detail: str = "", **facts: Any) -> Outcome:
        """A success; `facts` are kept for later rules and steps."""
        return cls(True, detail, False, facts)

    @classmethod
    def failed(cls, detail: str, *, retryable: bool) -> Outcome:
        """A failure; `retryable` says whether the runner may try the action again."""
        return cls(False, detail, retryable)

    @classmethod
    def missing(cls, service: str, fix: str) -> Outcome:
        """The watcher runs without a service this action needs: permanent, since trying
        again cannot help until the user changes the settings (`fix` says how)."""
        return cls(False, f"no {service}: {fix}", False)


@dataclass(frozen=True)
class Services:
    """The parts of the running watcher an action may use; each is None when it runs without
    that part (no `smtp:` settings, nobody ran `watcher login`, a one-off call without a
    store). An action that needs a missing one returns `Outcome.missing`, never raises."""

    store: Store | None = None
    smtp: SmtpSettings | None = None
    # Raises `CredentialsExpired` at once while the stored Globus tokens are dead.
    transfer: TransferClient | None = None


@dataclass(frozen=True)
class ActionContext:
    """What an action may use. `idempotency_key` names this intent, for exactly-once effects."""

    pbs: PbsCommands
    idempotency_key: str
    rule: str
    now: datetime
    services: Services = field(default_factory=Services)


Execute = Callable[[ActionContext, Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class ActionType:
    """A registry entry: the YAML key, its params model and its coroutine."""

    name: str
    params: type[ActionParams]
    execute: Execute
    summary: str
