"""Submitting a workflow from the command line: record it first, then complete it.

The record is written (and committed) before anything is submitted, with every step
`pending`; each qsub and transfer start is then marked and recorded one by one
(`watcher.workflows.complete`). A crash or an error anywhere leaves a record that says what is
missing, and `watcher stage submit --resume WF` (or `watcher recover WF`) finishes the job
without doing anything twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import globus_sdk

from watcher.config import Settings
from watcher.globus.clients import build_clients
from watcher.globus.consent_check import check_consents, probe_paths
from watcher.globus.consents import note_missing
from watcher.globus.errors import CredentialsExpired, describe
from watcher.globus.login_info import LoginInfo, read_login
from watcher.globus.tokens import TokenFile
from watcher.ledger.runner import default_owner
from watcher.pbs.parse import parse_qstat_json
from watcher.store.db import Store
from watcher.workflows import record
from watcher.workflows.cancel import Cancelled, cancel
from watcher.workflows.complete import CompleteError, Completer
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph_logs import story
from watcher.workflows.graph_retry import RetryRefused, reopen
from watcher.workflows.lifetime import lapses_before
from watcher.workflows.lifetime_check import (
    credential_lapses,
    graph_collections,
    graph_span,
)
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import as_graph


class SubmitProblem(Exception):
    """Nothing was recorded: the spec cannot be submitted as it is (the message says why)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def completer(settings: Settings, store: Store, now: Callable[[], datetime] = _utc_now
              ) -> Completer:
    """A Completer using the configured PBS commands and, when needed, the stored login."""
    def transfer() -> globus_sdk.TransferClient:
        return build_clients(settings.globus).ready_transfer()

    return Completer(store, settings.pbs.commands_runner(), default_owner(), now, transfer,
                     smtp=settings.smtp, user_email=settings.user_email)


class ConsentMissing(SubmitProblem):
    """A collection the workflow uses refuses the stored login until the user consents."""

    def __init__(self, message: str, missing: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.missing = missing


def _check_consents(settings: Settings, pairs: list[tuple[str, str]]) -> None:
    """Raise `ConsentMissing` if any (collection, path) would meet `ConsentRequired`."""
    try:
        report = check_consents(build_clients(settings.globus).ready_transfer(),
                                probe_paths(pairs))
    except CredentialsExpired as exc:
        raise SubmitProblem(f"{exc}") from exc
    if report.missing:
        info = read_login(settings.globus.token_db)
        raise ConsentMissing(report.message(info.collections if info else ()), report.missing)


@contextmanager
def _noting_missing_consents(store: Store) -> Iterator[None]:
    """A `ConsentMissing` on its way out is remembered for `watcher status` until a new login."""
    try:
        yield
    except ConsentMissing as exc:
        with store.session() as session:
            for collection, scopes in exc.missing.items():
                note_missing(session, collection, scopes, "watcher stage submit")
        raise


def lifetime_warnings(settings: Settings, store: Store, spec: GraphSpec, now: datetime,
                      queue_wait: timedelta) -> list[str]:
    """Each credential that lapses before the workflow's last transfer is expected to start
    (`watcher.workflows.lifetime`)."""
    steps = [*spec.steps.values(), *spec.failure_steps().values()]
    if all(step.transfer is None for step in steps):
        return []  # jobs only: no Globus credential is needed
    collections = graph_collections(spec)
    info, tc = _login_and_client(settings)
    with store.session(write=False) as session:
        span = graph_span(tc, session, spec, queue_wait)
    return lapses_before(credential_lapses(tc, info, collections, now), now, span,
                         until="last transfer")


def _login_and_client(settings: Settings
                      ) -> tuple[LoginInfo | None, globus_sdk.TransferClient | None]:
    """The recorded login and a ready client, each None when it cannot be had."""
    try:
        info = read_login(settings.globus.token_db)
    except (OSError, sqlite3.Error, ValueError):
        info = None
    try:
        tc: globus_sdk.TransferClient | None = build_clients(settings.globus).ready_transfer()
    except CredentialsExpired:
        tc = None
    return info, tc


def _warn_or_refuse(warnings: list[str], strict: bool, warn: Callable[[str], None]) -> None:
    """Tell each lapse warning, or refuse them all at once under `--strict`."""
    if warnings and strict:
        raise SubmitProblem("; ".join(warnings) + " (--strict: nothing was submitted)")
    for text in warnings:
        warn(text)


def check_graph(settings: Settings, spec: GraphSpec, workdir: Path) -> None:
    """Refuse early what would fail after the record: a missing script, no Globus login for
    the transfers, a collection that lacks the login's consent, a grafted task Globus does not
    know."""
    steps = {**spec.steps, **spec.failure_steps()}
    for name, step in steps.items():
        if step.job is not None and not (workdir / step.job).is_file():
            raise SubmitProblem(f"step {name}: script '{step.job}' is not a file in {workdir}")
    transfers = [step.transfer for step in steps.values() if step.transfer is not None]
    if not transfers:
        return
    if not TokenFile(settings.globus.token_db).exists():
        raise SubmitProblem("a workflow's transfers need Globus: run `watcher login` first")
    pairs = [(loc.endpoint, loc.path) for transfer in transfers
             for item in transfer.all_items() for loc in (item.source, item.destination)]
    if pairs:
        _check_consents(settings, pairs)
    for transfer in transfers:
        if transfer.task is not None:
            _check_graft(settings, transfer.task)


def _check_graft(settings: Settings, task: str) -> None:
    """Refuse a grafted task Globus does not know (or that the login cannot see)."""
    try:
        build_clients(settings.globus).ready_transfer().get_task(task)
    except globus_sdk.GlobusAPIError as exc:
        raise SubmitProblem(f"cannot graft task '{task}': {describe(exc)}") from exc
    except Exception as exc:  # dead credentials, Globus unreachable
        raise SubmitProblem(f"cannot graft task '{task}': {exc}") from exc


def submit(settings: Settings, store: Store, spec: WorkflowSpec | GraphSpec, workdir: Path,
           now: Callable[[], datetime] = _utc_now,
           recorded: Callable[[str], None] = lambda workflow_id: None, *,
           strict: bool = False, queue_wait: timedelta = timedelta(),
           warn: Callable[[str], None] = lambda text: None) -> tuple[str, list[str]]:
    """Record the workflow (the three-step shape as its graph), then submit every job step
    (held until its `after:` steps succeeded) and start the transfers that wait for nothing.

    First each collection is asked whether the login may use it; each credential that lapses
    before the last transfer is expected to start is a warning (`strict`: refused).
    `recorded(id)` is called once the record is committed (the CLI shows the id then, so
    even a crash right after leaves the user an id to resume). Returns the workflow id and
    what was done. Raises `SubmitProblem` before recording anything, and
    `IncompleteWorkflow` (carrying the id) once the record exists."""
    if isinstance(spec, WorkflowSpec):
        spec = as_graph(spec)
    with _noting_missing_consents(store):
        check_graph(settings, spec, workdir)
    _warn_or_refuse(lifetime_warnings(settings, store, spec, now(), queue_wait), strict, warn)
    with store.session() as session:
        workflow_id = record.create(session, spec, str(workdir), now(),
                                    email=settings.user_email).id
    recorded(workflow_id)
    return workflow_id, resume(settings, store, workflow_id, now)


class IncompleteWorkflow(Exception):
    """The workflow is recorded but something is missing; `--resume` or `recover` finishes."""

    def __init__(self, workflow_id: str, cause: CompleteError) -> None:
        super().__init__(f"{workflow_id}: {cause}")
        self.workflow_id = workflow_id
        self.retryable = cause.retryable


def resume(settings: Settings, store: Store, workflow_id: str,
           now: Callable[[], datetime] = _utc_now, *, listing: bool = False) -> list[str]:
    """Do whatever the workflow still lacks (nothing twice); returns what was done. With
    `listing`, a graph workflow's live jobs are looked for in qstat (`watcher recover`)."""
    try:
        return asyncio.run(completer(settings, store, now).complete(workflow_id,
                                                                    listing=listing))
    except CompleteError as exc:
        raise IncompleteWorkflow(workflow_id, exc) from exc


def cancel_workflow(settings: Settings, store: Store, workflow_id: str, reason: str,
                    now: Callable[[], datetime] = _utc_now) -> Cancelled:
    """`watcher.workflows.cancel.cancel` with the configured PBS commands and Globus login."""
    return cancel(store, settings.pbs.commands_runner(),
                  lambda: build_clients(settings.globus).ready_transfer(), workflow_id, reason,
                  now)


def retry_workflow(settings: Settings, store: Store, workflow_id: str, steps: list[str],
                   now: Callable[[], datetime] = _utc_now) -> tuple[list[str], list[str]]:
    """Reopen a failed graph workflow's steps that did not succeed (or the named ones, and
    what comes after them) and submit them; returns (the steps reopened, what was done).
    Raises `RetryRefused` before changing anything, `IncompleteWorkflow` after."""
    with store.session() as session:
        wf = record.get(session, workflow_id)
        if wf is None:
            raise RetryRefused(f"no workflow '{workflow_id}' (see 'watcher status')")
        reopened = reopen(session, wf, steps, now())
    return reopened, resume(settings, store, workflow_id, now)


def workflow_logs(settings: Settings, store: Store, workflow_id: str) -> list[str]:
    """`watcher stage logs`: the step-by-step story (`watcher.workflows.graph_logs`), with
    what qstat still says of the jobs (their output paths); PBS down is no error here."""
    with store.session(write=False) as session:
        wf = record.get(session, workflow_id)
        if wf is None:
            raise SubmitProblem(f"no workflow '{workflow_id}' (see 'watcher status')")
        jobs = [job for section in record.SECTIONS
                for entry in (wf.progress.get(section) or {}).values()
                for job in entry.get("jobs") or []]
    raw: dict[str, Any] = {}
    if jobs:
        result = asyncio.run(settings.pbs.commands_runner().run("qstat", "-f", "-F", "json",
                                                                "-x", *jobs))
        doc = parse_qstat_json(result.stdout) if result.stdout.strip() else None
        raw = {job_id: job.raw for job_id, job in (doc.jobs.items() if doc else ())}
    with store.session(write=False) as session:
        wf = record.get(session, workflow_id)
        assert wf is not None
        return story(session, wf, raw)
