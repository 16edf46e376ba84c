"""Doing what a graph workflow's plan says, each effect exactly once.

- A job submission is marked `submitting` (submission n, committed) before its qsub, and the
  job carries `WATCHER_INTENT=<workflow>:<step>:<n>`: after a crash the plan finds the tagged
  job in qstat and adopts it instead of submitting again.
- A transfer attempt k is started through `submit_once` under `workflow:<id>:<step>:<k>`:
  the Globus submission id is stored before the submit, so starting attempt k again after a
  crash gets the first task back. A retry is attempt k+1: a new task with the same items.
- `qrls` and `qdel` are idempotent.
- A mail is sent once per workflow and kind (`failed`, `done`): its Message-ID derives from
  the workflow and kind, and its acceptance is journaled before QUIT, as the `email` action
  does.

The caller (`watcher.workflows.complete.Completer`) holds the workflow's lease, so two runs of
one workflow take turns.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import globus_sdk

from watcher.failpoints import failpoint
from watcher.globus.submit import SubmitError, classify, submit_once
from watcher.mail.message import MessageError, build_message, domain_of, message_id_for
from watcher.mail.send import SendError, send_message
from watcher.mail.settings import SmtpSettings
from watcher.pbs.commands import PbsCommands
from watcher.pbs.errors import FINISHED_JOB_EXIT, parse_qstat_stderr
from watcher.pbs.lineage import INTENT
from watcher.pbs.parse import QstatDocument, parse_qstat_json
from watcher.pbs.snapshot import JobSnapshot
from watcher.pbs.submit_args import (
    QsubArgs,
    parse_submit_arguments,
    replace_resource,
    set_variables,
)
from watcher.store.db import Store
from watcher.store.facts import get_fact, put_fact
from watcher.store.models import Workflow
from watcher.store.watch import watch
from watcher.workflows import record
from watcher.workflows.graph_plan import (
    DONE,
    ENDED,
    FAILED,
    FAILING,
    FIRST,
    INTERRUPTED,
    LIVE,
    Finish,
    Move,
    Release,
    Skip,
    Start,
    Submit,
    advance,
    starts_on,
)
from watcher.workflows.graph_track import label
from watcher.workflows.jobs import STEP_VAR, WORKFLOW_VAR, submission_tag
from watcher.workflows.lifetime import walltime
from watcher.workflows.show import log_line

_QDEL_DONE = (35, 153)  # finished, unknown: nothing left to delete


class StepError(Exception):
    """A move failed; `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def step_argv(step: Mapping[str, Any], wf_name: str, workflow_id: str, name: str, n: int, *,
              hold: bool, walltime_retries: int = 0) -> list[str]:
    """qsub's arguments for submission `n` of job step `name` (pure); after
    `walltime_retries` walltime kills its walltime grows by the step's `walltime_factor`."""
    args = QsubArgs(parse_submit_arguments(" ".join(step.get("qsub") or [])).options)
    args = args.without("h", "z")
    longer = longer_walltime(step, walltime_retries)
    if longer is not None:
        args = replace_resource(args, "walltime", longer)
    if hold:
        args = args.plus("h")
    if not args.has("N"):
        args = args.plus("N", f"{wf_name}-{name}"[:230])
    tags = {WORKFLOW_VAR: workflow_id, STEP_VAR: name,
            INTENT: submission_tag(workflow_id, name, n)}
    return replace(set_variables(args, tags), script=str(step["script"])).argv()


def longer_walltime(step: Mapping[str, Any], walltime_retries: int) -> str | None:
    """`HH:MM:SS`: the step's walltime times its `walltime_factor` per walltime kill so far, or
    None when it asks for no more than it did (no factor, no kill yet, no walltime given)."""
    factor = float((step.get("retries") or {}).get("walltime_factor") or 1.0)
    base = walltime(list(step.get("qsub") or []))
    if factor <= 1 or walltime_retries <= 0 or base is None:
        return None
    seconds = math.ceil(base.total_seconds() * factor ** walltime_retries)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def failed_subjobs(doc: QstatDocument[JobSnapshot], parent: str) -> list[tuple[str, Any]]:
    """(subjob id, exit status) of each subjob of `parent` (`N[].srv`) that did not exit 0,
    from `qstat -t -x`: a subjob is `N[i].srv`; one that never ran has no exit status."""
    head, _, server = parent.partition("[]")
    found = []
    for job_id, job in doc.jobs.items():
        if job_id == parent or not job_id.startswith(head + "[") or not job_id.endswith(server):
            continue
        if job.exit_status != 0:
            found.append((job_id, job.exit_status))
    return sorted(found, key=lambda item: _index(item[0]))


def _index(job_id: str) -> int:
    inside = job_id.partition("[")[2].partition("]")[0]
    return int(inside) if inside.isdigit() else 0


def transfer_key(workflow_id: str, name: str, attempt: int) -> str:
    """The key a step's transfer attempt is submitted once under (a retry is a new attempt)."""
    return f"workflow:{workflow_id}:{name}:{attempt}"


@dataclass
class GraphRunner:
    """Runs plans. `transfer` returns the Globus client (or raises); `smtp` sends the mails."""

    store: Store
    pbs: PbsCommands
    now: Callable[[], datetime]
    transfer: Callable[[], globus_sdk.TransferClient] | None = None
    smtp: SmtpSettings | None = None
    user_email: str | None = None

    async def run(self, workflow_id: str, doc: QstatDocument[JobSnapshot] | None = None
                  ) -> list[str]:
        """Plan and act until nothing is left to do now; one line per thing done."""
        done: list[str] = []
        await self._name_subjobs(workflow_id)
        await self._owed_mail(workflow_id)  # a run killed between its finish and its mail
        for _ in range(8):  # a skip can finish the workflow, a finish can start on_failure
            with self.store.session(write=False) as session:
                wf = _get(session, workflow_id)
                plan = advance(workflow_id, wf.step, wf.spec, wf.progress, doc)
            # The listing predates this run's own submissions: it judges the first plan only
            # (later, a job submitted just now would look gone from PBS and be submitted again).
            doc = None
            if plan.empty:
                break
            for move in plan.moves:
                done.append(await self._do(workflow_id, move))
        return [line for line in done if line]

    async def _owed_mail(self, workflow_id: str) -> None:
        with self.store.session(write=False) as session:
            wf = _get(session, workflow_id)
            kind = {DONE: DONE, FAILING: FAILED, FAILED: FAILED}.get(wf.step)
            owed = kind is not None and kind not in (wf.progress.get("mailed") or [])
        if owed and kind is not None:
            await self._mail(workflow_id, kind)

    async def _name_subjobs(self, workflow_id: str) -> None:
        """A failed array step's reason names its subjobs that did not exit 0 (one
        `qstat -t -x` of the parent; PBS down leaves the parent's exit status as the reason)."""
        with self.store.session(write=False) as session:
            wf = _get(session, workflow_id)
            todo = [(section, name, entry["jobs"][-1])
                    for section in record.SECTIONS
                    for name, entry in (wf.progress.get(section) or {}).items()
                    if entry.get("status") == "failed" and entry.get("jobs")
                    and (wf.spec[section][name].get("array")) and "subjobs" not in entry]
        for section, name, parent in todo:
            result = await self.pbs.run("qstat", "-t", "-x", "-f", "-F", "json", parent)
            doc = parse_qstat_json(result.stdout) if result.ok else None
            if doc is None:
                continue
            bad = failed_subjobs(doc, parent)
            if not bad:
                continue
            text = ", ".join(f"{job} (exit {code})" for job, code in bad)
            reason = f"array job {parent}: subjob(s) {text} did not exit 0"
            await asyncio.to_thread(self._write, workflow_id, section, name,
                                    {"subjobs": [job for job, _ in bad], "reason": reason},
                                    reason)

    async def _do(self, workflow_id: str, move: Move) -> str:
        try:
            return await self._move(workflow_id, move)
        except _Stale:
            return ""  # a poll recorded the step's end since the plan: the next plan knows

    async def _move(self, workflow_id: str, move: Move) -> str:
        if isinstance(move, Submit):
            return await self._submit(workflow_id, move)
        if isinstance(move, Release):
            result = await self.pbs.run("qrls", "-h", "u", move.job)
            ended = result.returncode == FINISHED_JOB_EXIT  # released by a run killed before
            if not (result.ok or ended):  # its record: the job ran; the tracker sees its end
                raise StepError(f"{move.step}: qrls {move.job}: {result.describe()}",
                                retryable=_retryable(result))
            text = (f"job {move.job} released" if not ended else
                    f"job {move.job} had been released already and has ended")
            await asyncio.to_thread(self._write, workflow_id, move.section, move.step,
                                    {"status": "queued"}, text, if_status=("held",))
            return f"{move.step} {text}"
        if isinstance(move, Start):
            return await self._start(workflow_id, move)
        if isinstance(move, Skip):
            if move.job is not None:
                result = await self.pbs.run("qdel", move.job)
                if not result.ok and result.returncode not in _QDEL_DONE:
                    raise StepError(f"{move.step}: qdel {move.job}: {result.describe()}",
                                    retryable=_retryable(result))
            deleted = f"; job {move.job} deleted" if move.job else ""
            await asyncio.to_thread(self._write, workflow_id, move.section, move.step,
                                    {"status": "skipped", "reason": move.reason},
                                    f"skipped: {move.reason}{deleted}",
                                    if_status=LIVE)
            return f"{move.step} skipped{deleted}"
        return await self._finish(workflow_id, move)

    async def _submit(self, workflow_id: str, move: Submit) -> str:
        job_id, longer = move.adopt, None
        if job_id is None:
            argv, workdir, longer = await asyncio.to_thread(self._mark_job, workflow_id, move)
            result = await self.pbs.run("qsub", *argv, cwd=Path(workdir))
            out = result.stdout.strip()
            job_id = out.splitlines()[0].strip() if out else ""
            if not (result.ok and job_id):
                raise StepError(f"{move.step} job not submitted: {result.describe()}",
                                retryable=result.ok or _retryable(result))
            failpoint("workflow-after-qsub")  # a tagged, unrecorded job: adopted on retry
        held = " (held)" if move.hold else ""
        first = move.reason == FIRST
        text = (f"submitted as {job_id}{held}" if first
                else f"job {job_id}{held} adopted: {move.reason}, PBS has it (not submitted "
                     "again)" if move.adopt is not None
                else f"submitted as {job_id}{held}: an interrupted submission had left no job "
                     "in PBS" if move.reason == INTERRUPTED
                else f"submitted again as {job_id}{held}: {move.reason}")
        if longer is not None:
            text += f" (asking for walltime {longer})"
        await asyncio.to_thread(self._record_job, workflow_id, move, job_id, text)
        return f"{move.step} job {job_id} submitted{held}" if first else \
            f"{move.step} job {job_id}{held}: {move.reason}"

    def _mark_job(self, workflow_id: str, move: Submit) -> tuple[list[str], str, str | None]:
        """Commit `submitting` before the qsub; returns its arguments, where it runs, and the
        longer walltime it asks for (None: the step's own)."""
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            if _over(wf, move.section, move.step):
                raise _Stale
            record.note(session, wf, move.section, move.step, status="submitting",
                        n=move.n)
            step = wf.spec[move.section][move.step]
            used = int(((wf.progress[move.section].get(move.step) or {}).get("retries_used")
                        or {}).get("walltime", 0))
            return (step_argv(step, wf.name, workflow_id, move.step, move.n, hold=move.hold,
                              walltime_retries=used), wf.workdir, longer_walltime(step, used))

    def _record_job(self, workflow_id: str, move: Submit, job_id: str, text: str) -> None:
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            entry = wf.progress[move.section].get(move.step) or {}
            jobs = list(entry.get("jobs") or [])
            known = job_id in jobs  # a poll between qsub and here learnt it already
            status = entry.get("status") if (known and entry.get("status") not in (
                "submitting", None)) or entry.get("status") in ENDED else (
                "held" if move.hold else "queued")
            record.note(session, wf, move.section, move.step, n=move.n, status=status,
                        jobs=jobs if known else [*jobs, job_id])
            self._running(session, wf)
            record.log(session, wf, self.now(), move.step, text)

    async def _start(self, workflow_id: str, move: Start) -> str:
        grafted = await asyncio.to_thread(self._graft, workflow_id, move)
        if grafted is not None:
            return f"{move.step} task {grafted} grafted"
        if self.transfer is None:
            raise StepError(f"{move.step} needs Globus: run `watcher login`", retryable=False)
        try:
            tc = self.transfer()
        except Exception as exc:  # CredentialsExpired, GlobusError from the client factory
            error = classify(exc)
            raise StepError(f"{move.step} not started: {error}", retryable=error.retryable
                            ) from exc
        spec, key = await asyncio.to_thread(self._mark_task, workflow_id, move)

        def data_for(submission_id: str) -> globus_sdk.TransferData:
            data = globus_sdk.TransferData(
                spec["source_endpoint"], spec["destination_endpoint"],
                label=label(workflow_id, move.step), submission_id=submission_id,
                verify_checksum=True, notify_on_succeeded=False, notify_on_failed=False,
                notify_on_inactive=False)
            for item in spec["items"]:
                data.add_item(item["source"], item["destination"],
                              recursive=bool(item["recursive"]))
            return data

        try:
            done = await asyncio.to_thread(
                submit_once, tc, data_for, store=self.store, intent_key=key,
                watch_info={"workflow": workflow_id, "step": move.step})
        except SubmitError as exc:
            raise StepError(f"{move.step} not started: {exc}", retryable=exc.retryable
                            ) from exc
        failpoint("workflow-after-transfer")  # Globus has the task, the record not yet
        again = "" if move.reason == FIRST else f" (attempt {move.attempt}: {move.reason})"
        await asyncio.to_thread(self._record_task, workflow_id, move, done.task_id,
                                f"started: Globus task {done.task_id}{again}")
        return f"{move.step} task {done.task_id} started{again}"

    def _graft(self, workflow_id: str, move: Start) -> str | None:
        """Take the transfer the user started as the step (None: the step is no graft).
        Idempotent: grafting again records nothing new."""
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            task = wf.spec[move.section][move.step]["transfer"].get("task")
            if task is None:
                return None
            entry = wf.progress[move.section].get(move.step) or {}
            if task in (entry.get("tasks") or []):
                return str(task)
            record.note(session, wf, move.section, move.step, status="active",
                        attempt=move.attempt, tasks=[task],
                        started_at=self.now().isoformat())
            watch(session, "globus", task, workflow=workflow_id, step=move.step)
            put_fact(session, record.grafted_key(task),
                     {"workflow": workflow_id, "step": move.step})
            self._running(session, wf)
            record.log(session, wf, self.now(), move.step,
                       f"grafted: Globus task {task} (a transfer you started)")
            return str(task)

    def _mark_task(self, workflow_id: str, move: Start) -> tuple[dict[str, Any], str]:
        """Commit `submitting` before the start; returns the transfer and its once-key (a
        start interrupted under an upgraded record's old key is asked again under that)."""
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            if _over(wf, move.section, move.step):
                raise _Stale
            entry = wf.progress[move.section].get(move.step) or {}
            key = str(entry.get("intent_key") or transfer_key(workflow_id, move.step,
                                                               move.attempt))
            record.note(session, wf, move.section, move.step, status="submitting",
                        attempt=move.attempt)
            return dict(wf.spec[move.section][move.step]["transfer"]), key

    def _record_task(self, workflow_id: str, move: Start, task_id: str, text: str) -> None:
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            entry = wf.progress[move.section].get(move.step) or {}
            tasks = list(entry.get("tasks") or [])
            known = task_id in tasks
            status = entry.get("status") if (known and entry.get("status") != "submitting") \
                or entry.get("status") in ENDED else "active"
            record.note(session, wf, move.section, move.step, status=status,
                        tasks=tasks if known else [*tasks, task_id], intent_key=None,
                        started_at=entry.get("started_at") or self.now().isoformat())
            self._running(session, wf)
            record.log(session, wf, self.now(), move.step, text)

    def _running(self, session: Any, wf: Workflow) -> None:
        if wf.step == record.SUBMITTED:
            record.set_state(session, wf, "running", self.now())

    def _write(self, workflow_id: str, section: str, name: str, changes: dict[str, Any],
               text: str, *, if_status: Collection[str] = ()) -> None:
        """Note `changes` on the step and log `text`; with `if_status`, the changes only if
        the step is still in one of those statuses (a poll may have recorded the job's news
        since the plan: a release must not turn a step that ended back into `queued`)."""
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            status = ((wf.progress.get(section) or {}).get(name) or {}).get("status")
            if not if_status or status in if_status:
                record.note(session, wf, section, name, **changes)
            record.log(session, wf, self.now(), name, text)

    async def _finish(self, workflow_id: str, move: Finish) -> str:
        summary = await asyncio.to_thread(self._set_state, workflow_id, move.state)
        if move.mail and move.state in (FAILING, FAILED, DONE):
            kind = DONE if move.state == DONE else FAILED
            await self._mail(workflow_id, kind)
        return summary

    def _set_state(self, workflow_id: str, state: str) -> str:
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            if wf.step == state:
                return ""
            text = {DONE: "done: every step succeeded",
                    FAILING: "failed: " + "; ".join(failures(wf)) + "; running on_failure",
                    FAILED: "failed: " + "; ".join(failures(wf))}[state]
            if state == FAILED and wf.step == FAILING:
                text = "on_failure finished; the workflow failed"
            record.set_state(session, wf, state, self.now())
            record.log(session, wf, self.now(), record.WHOLE, text)
            return f"workflow {text}"

    async def _mail(self, workflow_id: str, kind: str) -> None:
        with self.store.session(write=False) as session:
            wf = _get(session, workflow_id)
            key = f"workflow:{workflow_id}:mail:{kind}:{int(wf.progress.get('round', 1))}"
            if kind in (wf.progress.get("mailed") or []) or get_fact(session, f"effect:{key}"):
                return
            to = wf.spec.get("email") or self.user_email
            subject, body = mail_text(session, wf, kind)
        if self.smtp is None or not to:
            why = "no SMTP settings" if self.smtp is None else "no address"
            await asyncio.to_thread(self._mailed, workflow_id, kind,
                                    f"not mailed ({why}): {subject}")
            return
        try:
            msg = build_message(sender=self.smtp.sender, to=to, subject=subject, body=body,
                                message_id=message_id_for(key, domain_of(self.smtp.sender)),
                                date=self.now(), headers={"X-Watcher-Workflow": workflow_id})
        except MessageError as exc:
            await asyncio.to_thread(self._mailed, workflow_id, kind, f"not mailed: {exc}")
            return

        async def journal(reply: str) -> None:
            await asyncio.to_thread(self._journal, key, reply)

        try:
            await send_message(self.smtp, msg, on_accepted=journal)
        except SendError as exc:
            raise StepError(f"mail not sent: {exc}", retryable=exc.retryable) from exc
        await asyncio.to_thread(self._mailed, workflow_id, kind, f"mailed {to}: {subject}")

    def _journal(self, key: str, reply: str) -> None:
        with self.store.session() as session:
            put_fact(session, f"effect:{key}", {"detail": reply})

    def _mailed(self, workflow_id: str, kind: str, text: str) -> None:
        with self.store.session() as session:
            wf = _get(session, workflow_id)
            record.mark_mailed(session, wf, kind)
            record.log(session, wf, self.now(), record.WHOLE, text)


class _Stale(Exception):
    """The plan's move is about a step that ended since (a poll recorded it meanwhile)."""


def _over(wf: Workflow, section: str, name: str) -> bool:
    return ((wf.progress.get(section) or {}).get(name) or {}).get("status") in ENDED


def failures(wf: Workflow) -> list[str]:
    """`step: reason` for each failed step (skipped ones are their consequence)."""
    found = [f"{name} {entry.get('reason') or 'failed'}"
             if not str(entry.get("reason") or "").startswith(("job", "task"))
             else f"{name}: {entry['reason']}"
             for name, entry in (wf.progress.get("steps") or {}).items()
             if entry.get("status") == "failed"]
    return found or ["a step did not succeed"]


def mail_text(session: Any, wf: Workflow, kind: str) -> tuple[str, str]:
    """The subject and body of the workflow's `done` or `failed` mail (reads only)."""
    steps = wf.progress.get("steps") or {}
    if kind == DONE:
        subject = f"[watcher] {wf.id} ({wf.name}): done"
        head = f"Workflow {wf.id} ({wf.name}) is done: all {len(steps)} steps succeeded."
    else:
        failed = [name for name, entry in steps.items() if entry.get("status") == "failed"]
        subject = f"[watcher] {wf.id} ({wf.name}): failed at {', '.join(failed) or 'a step'}"
        reasons = "\n".join(f"  {line}" for line in failures(wf))
        skipped = [name for name, entry in steps.items() if entry.get("status") == "skipped"]
        head = f"Workflow {wf.id} ({wf.name}) failed:\n{reasons}"
        if skipped:
            head += f"\nNot run (they come after it): {', '.join(skipped)}."
        starting = [name for name, step in (wf.spec.get("on_failure") or {}).items()
                    if starts_on(step, set(failed))]
        if starting:
            head += f"\nStarted on_failure: {', '.join(starting)}."
        for name, step in (wf.spec.get("on_failure") or {}).items():
            if name not in starting:
                head += (f"\nNot started: {name} (it runs only if "
                         f"{' or '.join(step['if_failed'])} failed); what the steps made is "
                         f"still in {wf.workdir}.")
        head += f"\nRun `watcher stage retry {wf.id}` to run again what did not succeed"
        head += (" (name a step that succeeded, `watcher stage retry "
                 f"{wf.id} STEP`, if on_failure removed what it made)." if starting else ".")
    log = "\n".join(log_line(line) for line in record.lines(session, wf.id))
    return subject, f"{head}\n\n{log}\n\n-- \nSent by watcher.\n"


def _retryable(result: Any) -> bool:
    return result.returncode is None or result.returncode == 255 or parse_qstat_stderr(
        result.stderr).unreachable


def _get(session: Any, workflow_id: str) -> Workflow:
    wf = record.get(session, workflow_id)
    if wf is None:
        raise StepError(f"no workflow '{workflow_id}'", retryable=False)
    return wf
