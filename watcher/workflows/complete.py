"""Moving a workflow on: one run of its plan (`watcher.workflows.graph_run`) under its lease.

One code path serves `watcher stage submit` (a fresh workflow), `--resume` and
`watcher recover` (after a crash or a lost queue) and the `advance_workflow` action (the
staging rules, when a step's job or transfer ended or vanished). Runs of one workflow take
turns through a lease on its record, so the firings of two steps that ended in one poll (or
two jobs of a wiped queue) cannot both act: the later one finds the work done.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import globus_sdk
from sqlalchemy import or_, update
from sqlmodel import col

from watcher.mail.settings import SmtpSettings
from watcher.pbs.commands import PbsCommands
from watcher.pbs.errors import parse_qstat_stderr
from watcher.pbs.parse import QstatDocument, parse_qstat_json
from watcher.pbs.snapshot import JobSnapshot
from watcher.store.db import Store
from watcher.store.models import Workflow
from watcher.workflows import graph_plan, record
from watcher.workflows.graph_run import GraphRunner, StepError

LEASE = timedelta(minutes=5)
LEASE_WAITS, LEASE_WAIT_STEP = 40, 0.25  # up to 10 s for a run of the same workflow


def run_owner(label: str) -> str:
    """A lease holder's name for one run, `host:pid:nonce:label`: no other run has it (so two
    runs of one firing, its retry racing it, take turns too) and `dead_owner` knows it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}:{label}"


def dead_owner(owner: str) -> bool:
    """Whether a lease holder named like `default_owner()` (host:pid:nonce) is a process of
    this host that no longer runs: a crashed `watcher stage submit` must not block `watcher
    recover` for the lease's length. Holders elsewhere (or intents) wait for the lease."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class CompleteError(Exception):
    """Completing failed; `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class Completer:
    """Moves a workflow on. `transfer` returns the Globus client (or raises)."""

    store: Store
    pbs: PbsCommands
    owner: str
    now: Callable[[], datetime]
    transfer: Callable[[], globus_sdk.TransferClient] | None = None
    smtp: SmtpSettings | None = None  # the workflow's mails
    user_email: str | None = None

    async def complete(self, workflow_id: str, *, listing: bool = False) -> list[str]:
        """Run the plan once; returns one line per thing done (empty: nothing was missing).

        With `listing`, the live jobs are looked for in one qstat listing and submitted again
        when PBS lost them (`watcher recover`)."""
        if not await self._wait_for_lease(workflow_id):
            with self.store.session(write=False) as session:
                known = record.get(session, workflow_id) is not None
            raise CompleteError(f"another run of {workflow_id} is under way" if known
                                else f"no workflow '{workflow_id}'", retryable=known)
        try:
            return await self._complete(workflow_id, listing)
        finally:
            await asyncio.to_thread(self._lease, workflow_id, False)

    async def _wait_for_lease(self, workflow_id: str) -> bool:
        """Take the lease, waiting a little for a run that holds it (two steps of one graph
        often end in one poll: the second run follows the first instead of being retried
        seconds later)."""
        for _ in range(LEASE_WAITS):
            if await asyncio.to_thread(self._lease, workflow_id, True):
                return True
            with self.store.session(write=False) as session:
                if record.get(session, workflow_id) is None:
                    return False
            await asyncio.sleep(LEASE_WAIT_STEP)
        return await asyncio.to_thread(self._lease, workflow_id, True)

    async def _complete(self, workflow_id: str, listing: bool) -> list[str]:
        with self.store.session(write=False) as session:
            wf = record.get(session, workflow_id)
            if wf is None:
                raise CompleteError(f"no workflow '{workflow_id}'", retryable=False)
            progress = dict(wf.progress)
        doc = await self._listing() if listing or graph_plan.needs_listing(progress) else None
        runner = GraphRunner(self.store, self.pbs, self.now, self.transfer, self.smtp,
                             self.user_email)
        try:
            return await runner.run(workflow_id, doc)
        except StepError as exc:
            raise CompleteError(str(exc), retryable=exc.retryable) from exc

    async def _listing(self) -> QstatDocument[JobSnapshot]:
        result = await self.pbs.run("qstat", "-f", "-F", "json", "-x")
        unreachable = result.returncode in (None, 255) or parse_qstat_stderr(
            result.stderr).unreachable
        doc = None if unreachable else parse_qstat_json(result.stdout)
        if doc is None or not doc.complete:
            raise CompleteError(f"PBS did not list its jobs: {result.describe()}",
                                retryable=True)
        return doc

    def _lease(self, workflow_id: str, take: bool) -> bool:
        if self._set_lease(workflow_id, take):
            return True
        if not take:
            return False
        with self.store.session(write=False) as session:
            wf = record.get(session, workflow_id)
            holder = wf.lease_owner if wf is not None else None
        return holder is not None and dead_owner(holder) and self._set_lease(
            workflow_id, True, steal_from=holder)

    def _set_lease(self, workflow_id: str, take: bool, steal_from: str | None = None) -> bool:
        now = self.now()
        values = ({"lease_owner": self.owner, "lease_until": now + LEASE} if take
                  else {"lease_owner": None, "lease_until": None})
        free = or_(col(Workflow.lease_until).is_(None), col(Workflow.lease_until) < now,
                   col(Workflow.lease_owner) == (steal_from or self.owner))
        stmt = update(Workflow).where(col(Workflow.id) == workflow_id)
        stmt = stmt.where(free) if take else stmt.where(col(Workflow.lease_owner) == self.owner)
        with self.store.session() as session:
            return session.execute(stmt.values(**values)).rowcount > 0
