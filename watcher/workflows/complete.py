"""Doing what a workflow's plan says: submit or adopt its jobs, start or graft its stage-in.

One code path serves `watcher stage submit` (a fresh workflow), `--resume` and
`watcher recover` (after a crash or a lost queue) and the `recover_workflow` action (a rule on
`vanished` or a walltime kill). Recoveries of one workflow take turns through a lease on its
record, so the two `vanished` firings of a wiped queue (compute and cleanup) cannot both
resubmit: the second finds the work done.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import globus_sdk
from sqlalchemy import or_, update
from sqlmodel import col

from watcher.failpoints import failpoint
from watcher.globus.errors import CredentialsExpired
from watcher.globus.submit import SubmitError, classify
from watcher.mail.settings import SmtpSettings
from watcher.pbs.commands import PbsCommands
from watcher.pbs.errors import parse_qstat_stderr
from watcher.pbs.parse import QstatDocument, parse_qstat_json
from watcher.pbs.snapshot import JobSnapshot
from watcher.store.db import Store
from watcher.store.models import Workflow
from watcher.workflows import graph_plan, record, stagein
from watcher.workflows.graph_run import GraphRunner, StepError
from watcher.workflows.jobs import qsub_argv
from watcher.workflows.plan import FIRST_SUBMISSION, JobAction, Plan, needs_listing, plan

LEASE = timedelta(minutes=5)
LEASE_WAITS, LEASE_WAIT_STEP = 40, 0.25  # up to 10 s for a run of the same workflow


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
    """Submits what a workflow lacks. `transfer` returns the Globus client (or raises)."""

    store: Store
    pbs: PbsCommands
    owner: str
    now: Callable[[], datetime]
    transfer: Callable[[], globus_sdk.TransferClient] | None = None
    smtp: SmtpSettings | None = None  # a graph workflow's mails
    user_email: str | None = None

    async def complete(self, workflow_id: str, *, listing: bool = False) -> list[str]:
        """Run the plan once; returns one line per thing done (empty: nothing was missing).

        A graph workflow is advanced (`watcher.workflows.graph_run`); with `listing`, its live
        jobs are looked for in one qstat listing and submitted again when PBS lost them."""
        if not await self._wait_for_lease(workflow_id):
            with self.store.session(write=False) as session:
                known = record.get(session, workflow_id) is not None
            raise CompleteError(f"another recovery of {workflow_id} is running" if known
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
            step, spec, progress, workdir = wf.step, dict(wf.spec), dict(wf.progress), wf.workdir
        if spec.get("graph"):
            return await self._graph(workflow_id, progress, listing)
        doc = await self._listing() if needs_listing(progress) else None
        todo: Plan = plan(workflow_id, step, spec, progress, doc)
        done = [await self._job(workflow_id, action, workdir) for action in todo.jobs]
        if todo.stage_in == "start":
            done.append(f"stage-in task {await self._start_stage_in(workflow_id)}")
        elif todo.stage_in == "graft":
            task = await asyncio.to_thread(stagein.graft, self.store, workflow_id, self.now())
            done.append(f"stage-in task {task} grafted")
        return done

    async def _graph(self, workflow_id: str, progress: dict[str, Any], listing: bool
                     ) -> list[str]:
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

    async def _job(self, workflow_id: str, action: JobAction, workdir: str) -> str:
        if action.adopt is None:
            await asyncio.to_thread(self._mark, workflow_id, action)
            job_id = await self._qsub(workflow_id, action, workdir)
            failpoint("workflow-after-qsub")  # a crash here leaves a tagged, unrecorded job
        else:
            job_id = action.adopt
        await asyncio.to_thread(self._record_job, workflow_id, action, job_id)
        held = " (held)" if action.hold else ""
        if action.adopt is None and action.reason == FIRST_SUBMISSION:
            return f"{action.step} job {job_id} submitted{held}"
        return f"{action.step} job {job_id}{held}: {action.reason}"

    async def _qsub(self, workflow_id: str, action: JobAction, workdir: str) -> str:
        with self.store.session(write=False) as session:
            wf = record.get(session, workflow_id)
            assert wf is not None
            argv = qsub_argv(wf.spec, wf.name, workflow_id, action.step, action.n,
                             hold=action.hold)
        result = await self.pbs.run("qsub", *argv, cwd=Path(workdir))
        job_id = result.stdout.strip().splitlines()[0].strip() if result.stdout.strip() else ""
        if result.ok and job_id:
            return job_id
        retry = result.ok or result.returncode is None or parse_qstat_stderr(
            result.stderr).unreachable
        raise CompleteError(f"{action.step} job not submitted: {result.describe()}",
                            retryable=retry)

    async def _start_stage_in(self, workflow_id: str) -> str:
        if self.transfer is None:
            raise CompleteError("the stage-in needs Globus: run `watcher login`",
                                retryable=False)
        try:
            tc = self.transfer()
            return await asyncio.to_thread(stagein.start, self.store, tc, workflow_id,
                                           self.now())
        except SubmitError as exc:
            raise CompleteError(f"stage-in not started: {exc}", retryable=exc.retryable
                                ) from exc
        except (CredentialsExpired, globus_sdk.GlobusError) as exc:  # from the client factory
            error = classify(exc)
            raise CompleteError(f"stage-in not started: {error}", retryable=error.retryable
                                ) from exc

    def _mark(self, workflow_id: str, action: JobAction) -> None:
        """Commit `submitting` before the qsub: a crash then leaves a tag to look for."""
        with self.store.session() as session:
            wf = record.get(session, workflow_id)
            assert wf is not None
            entry = wf.progress.get(action.step, {})
            retries = int(entry.get("walltime_retries", 0)) + int(action.walltime_retry)
            record.note(session, wf, action.step, status="submitting", n=action.n,
                        walltime_retries=retries)

    def _record_job(self, workflow_id: str, action: JobAction, job_id: str) -> None:
        with self.store.session() as session:
            wf = record.get(session, workflow_id)
            assert wf is not None
            jobs = list(wf.progress.get(action.step, {}).get("jobs") or [])
            # A poll between the qsub and this record may have adopted the job already (the
            # tracker follows WATCHER_WORKFLOW jobs): then it is known, not submitted again.
            known = job_id in jobs
            if not known:
                jobs = [*jobs, job_id]
            record.note(session, wf, action.step, jobs=jobs,
                        status="held" if action.hold else "queued")
            setattr(wf, f"{action.step}_job", job_id)
            if known:
                return
            first = len(jobs) == 1
            verb = "submitted" if first else "submitted again"
            held = " (held)" if action.hold else ""
            text = f"{action.step} {verb} as {job_id}{held}"
            record.log(session, wf, self.now(), wf.step, text if first else
                       f"{text}: {action.reason}")

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
