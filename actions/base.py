"""The interface every action implements: a params model and one coroutine.

An action module defines `Params` (a pydantic model; unknown keys are rejected) and
`async def execute(ctx, params) -> Outcome`. Parameters reach `execute` already rendered from
their templates and validated. `Outcome.retryable` separates passing faults (server down, 5xx) from
permanent ones (unknown job, permission denied), which are not retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from watcher.pbs.commands import CommandResult, PbsCommands


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
        return cls(True, detail, False, facts)

    @classmethod
    def failed(cls, detail: str, *, retryable: bool) -> Outcome:
        return cls(False, detail, retryable)


@dataclass
class ActionContext:
    """What an action may use. `idempotency_key` names this intent, for exactly-once effects."""

    pbs: PbsCommands
    idempotency_key: str
    rule: str
    now: datetime
    services: dict[str, Any] = field(default_factory=dict)


EFFECT_PREFIX = "effect:"


def effect_key(idempotency_key: str) -> str:
    """The fact under which an action journals that its effect happened."""
    return f"{EFFECT_PREFIX}{idempotency_key}"


async def record_effect(ctx: ActionContext, detail: str, **facts: Any) -> None:
    """Journal, in its own committed transaction, that this intent's effect has happened.

    Call it right after a non-idempotent effect (a mail accepted by the server). If the watcher
    dies before the ledger records the outcome, the runner finds this journal entry on the
    retry and reports the effect done instead of repeating it. Without a store (unit tests, a
    one-off call) it does nothing.
    """
    store = ctx.services.get("store")
    if store is None:
        return
    from watcher.store.facts import put_fact  # actions stay importable without the store

    def _write() -> None:
        with store.session() as session:
            put_fact(session, effect_key(ctx.idempotency_key), {"detail": detail, **facts})

    await asyncio.to_thread(_write)


Execute = Callable[[ActionContext, Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class ActionType:
    """A registry entry: the YAML key, its params model and its coroutine."""

    name: str
    params: type[ActionParams]
    execute: Execute
    summary: str


# PBS error numbers arrive as exit codes modulo 256 (pbs_error.h).
PBS_UNKNOWN_JOB = 153  # PBSE_UNKJOBID 15001
PBS_UNAUTHORIZED = 159  # PBSE_PERM 15007
PBS_JOB_FINISHED = 35  # PBSE_HISTJOBID 15139


def pbs_outcome(result: CommandResult, *, done_codes: tuple[int, ...] = ()) -> Outcome:
    """Turn a PBS command's result into an Outcome.

    Exit 0 and `done_codes` are success. Unknown job, permission denied and a finished job are
    permanent. Anything else (server unreachable, timeout, a command that could not start) may
    pass, so it is retryable.
    """
    if result.ok or result.returncode in done_codes:
        return Outcome.done(result.describe())
    permanent = result.returncode in (PBS_UNKNOWN_JOB, PBS_UNAUTHORIZED, PBS_JOB_FINISHED)
    return Outcome.failed(result.describe(), retryable=not permanent)
