"""Running claimed intents: look up the action, validate, execute, record.

Exactly once. The ledger guarantees an intent is *recorded* once; an effect can still happen
twice if a worker dies after acting and before recording, because the next worker runs the
intent again when the lease runs out. So every action must be safe to run again:
`qrls`, `qdel` and `qhold` are idempotent in PBS (qdel of a finished job counts as done). An
action whose effect is not idempotent uses `ctx.idempotency_key` to find its earlier effect
first: `resubmit` tags the new job with `-v WATCHER_INTENT=<key>` and looks for that tag before
submitting again, `stage_out` stores its Globus submission id before submitting (Globus accepts
one task per submission id), and `email` derives its Message-ID from the key and is recorded
once sent. A claim is a short lease that the service's heartbeat renews while the action runs
(`watcher.ledger.takeover`), so a long action keeps it and a dead worker's claims come free soon.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, select

from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, ActionType, Outcome, Services
from watcher.actions.effects import effect_key
from watcher.failpoints import failpoint
from watcher.ledger import deferred as steps
from watcher.ledger.claim import claim
from watcher.ledger.policy import RetryPolicy
from watcher.ledger.record import record
from watcher.ledger.report import RunReport
from watcher.pbs.commands import PbsCommands
from watcher.pbs.meanings import TEMPLATE_HELPER
from watcher.rules.model import ActionCall
from watcher.store.db import Store
from watcher.store.facts import get_fact
from watcher.store.models import Firing, Intent
from watcher.templating import TemplateError

log = logging.getLogger(__name__)


def default_owner() -> str:
    """A name for this worker that no other process, here or on another host, will use."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ActionRunner:
    """Runs due intents for one worker. Database calls run in a thread, off the event loop."""

    def __init__(
        self,
        store: Store,
        pbs: PbsCommands,
        owner: str,
        now: Callable[[], datetime],
        policy: RetryPolicy | None = None,
        services: Services | None = None,
        *,
        lease: timedelta = timedelta(seconds=30),
        concurrency: int = 8,
        actions: Mapping[str, ActionType] = ACTIONS,
    ) -> None:
        self.store, self.pbs, self.owner, self.now = store, pbs, owner, now
        self.policy = policy or RetryPolicy()
        self.services = services or Services()
        self.lease, self.actions, self.concurrency = lease, actions, concurrency
        self._busy = asyncio.Lock()
        # Claimed and not yet recorded: the leases the heartbeat must renew.
        self.holding = 0
        # Set by a clean stop: the batch running now finishes, no new one is claimed.
        self.stopping = False

    async def run_due(self, limit: int = 100) -> list[RunReport]:
        """Claim due intents, run them (different firings concurrently), record; repeat until
        none is due or `limit` ran.

        One batch at a time per runner, and no more claimed than can start at once: a lease
        starts at the claim, so an intent left waiting for a slot could see its lease expire
        and be claimed and run a second time by this same process.
        """
        async with self._busy:
            reports: list[RunReport] = []
            while len(reports) < limit and not self.stopping:
                batch = await self._run_batch(min(self.concurrency, limit - len(reports)))
                if not batch:
                    break
                reports += batch
            return reports

    async def _run_batch(self, limit: int) -> list[RunReport]:
        intents = await asyncio.to_thread(
            claim, self.store, owner=self.owner, now=self.now(), lease=self.lease, limit=limit
        )
        if not intents:
            return []
        self.holding += len(intents)
        for intent in intents:
            if intent.attempts > 1:  # a retry, or the claim of a worker that is gone
                log.info("Rule %r step %d (%s): attempt %d", intent.rule, intent.step,
                         intent.action_type, intent.attempts)
        failpoint("after-claim")
        subjects = await asyncio.to_thread(self._subjects, intents)
        slots = asyncio.Semaphore(self.concurrency)  # per call: a semaphore binds to one loop
        return list(await asyncio.gather(
            *(self._run_one(i, subjects.get(i.firing_id), slots) for i in intents)
        ))

    async def _run_one(
        self, intent: Intent, subject: str | None, slots: asyncio.Semaphore
    ) -> RunReport:
        async with slots:
            outcome = await self._execute(intent)
        failpoint("after-execute")
        try:
            recorded = await asyncio.to_thread(
                record, self.store, intent.id, outcome,
                owner=self.owner, now=self.now(), policy=self.policy,
            )
        finally:
            self.holding -= 1
        report = RunReport.of(recorded or intent, outcome, subject, recorded=recorded is not None)
        _log(report)
        return report

    async def _execute(self, intent: Intent) -> Outcome:
        action = self.actions.get(intent.action_type)
        if action is None:
            return Outcome.failed(f"unknown action type {intent.action_type!r}", retryable=False)
        if steps.is_deferred(intent.params):
            try:
                params = await asyncio.to_thread(self._render_deferred, intent)
            except TemplateError as exc:  # the rule is wrong; trying again cannot help
                return Outcome.failed(str(exc), retryable=False)
        else:
            try:
                params = action.params.model_validate(intent.params)
            except ValidationError as exc:  # the rule is wrong; trying again cannot help
                return Outcome.failed(f"invalid parameters: {_one_line(exc)}", retryable=False)
        journaled = await asyncio.to_thread(self._journaled_effect, intent.key)
        if journaled is not None:  # the effect happened before a crash; do not repeat it
            detail = journaled.pop("detail", "")
            return Outcome.done(f"already done before a restart: {detail}", **journaled)
        ctx = ActionContext(self.pbs, intent.key, intent.rule, self.now(), self.services)
        try:
            return await action.execute(ctx, params)
        except Exception as exc:  # a bug or a passing fault: retry, and show what it was
            log.debug("action raised", exc_info=True)
            return Outcome.failed(f"{type(exc).__name__}: {exc}", retryable=True)

    def _render_deferred(self, intent: Intent) -> Any:
        """A step that uses earlier steps' results, rendered now from their ledger records."""
        names = intent.params[steps.DEFERRED].get("names") or {}
        with self.store.session(write=False) as session:
            results = steps.step_results(session, intent, names)
        written, context = steps.deferred_context(intent, results, {"meanings": TEMPLATE_HELPER})
        call = ActionCall(type=intent.action_type, params=written)
        return call.bind(context, f"do[{intent.step}].{intent.action_type}")

    def _journaled_effect(self, key: str) -> dict[str, Any] | None:
        with self.store.session(write=False) as session:
            return get_fact(session, effect_key(key))

    def _subjects(self, intents: list[Intent]) -> dict[int | None, str]:
        ids = {i.firing_id for i in intents if i.firing_id is not None}
        if not ids:
            return {}
        with self.store.session(write=False) as session:
            rows = session.exec(select(Firing.id, Firing.subject).where(col(Firing.id).in_(ids)))
            return dict(rows.all())


def _one_line(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'params'}: {err['msg']}" for err in exc.errors()
    )


def _log(report: RunReport) -> None:
    where = f"Rule {report.rule!r} step {report.step} ({report.action_type})"
    if not report.recorded:
        log.warning("%s: lease lost before recording; another worker owns it: %s",
                    where, report.detail)
    elif report.status == "done":
        log.info("%s done: %s", where, report.detail)
    elif report.dead:
        log.error("%s failed for good: %s", where, report.error)
    else:
        log.warning("%s failed (attempt %d), retrying at %s: %s", where, report.attempts,
                    report.next_attempt_at.isoformat() if report.next_attempt_at else "?",
                    report.detail)
