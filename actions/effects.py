"""Journaling an effect that must not happen twice (a mail the server accepted).

The runner (`watcher.ledger.runner`) looks for this journal entry before it runs an intent
again after a crash, and reports the effect done instead of repeating it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from watcher.actions.base import ActionContext

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
    store = ctx.services.store
    if store is None:
        return
    from watcher.store.facts import put_fact  # only a run with a store pays for its import

    def _write() -> None:
        with store.session() as session:
            put_fact(session, effect_key(ctx.idempotency_key), {"detail": detail, **facts})

    await asyncio.to_thread(_write)
