"""`resubmit`: submit a job again, as it was submitted, with a few changes.

    do:
      - resubmit: {max_attempts: 3, walltime: "02:00:00", hold: true}

`job:` defaults to "{{ job.id }}", the job whose event fired the rule. Its qsub command line
comes back from its `Submit_arguments` (`watcher.pbs.submit_args`) and runs again in its
PBS_O_WORKDIR, as an argument list. Changed on the way: `-h` only when `hold:` asks for it;
`walltime:` and `queue:` replace `-l walltime` and `-q`; `-v` gains `variables:` and the lineage
tags (`watcher.pbs.lineage`); `-z` goes (qsub must print the new id), and so do the `depend` and
`block` attributes of `-W`. A dependency is not carried over: the old job's parents have already
run (it started), and its `before*` children were released or deleted by PBS when it ended. `-N`
is added when missing, so the new job keeps the old job's name (a stdin job stays `STDIN`) and
name patterns in rules keep matching the lineage. `script:` names the script when
`Submit_arguments` has none (the script was piped to qsub, which PBS does not keep in a form
qsub can read back). A bare `-v NAME` takes the value the old job had; `-V` is kept and exports
the watcher's own environment. The old job is left alone: a rule that resubmits a job that may
still be queued should `qdel` it too.

Exactly once: one `qstat -f -F json -x` shows both the old job and, after a crash between
qsub and the ledger's record, the job this intent already submitted (tagged WATCHER_INTENT);
then that job is the result and nothing is submitted. `max_attempts` counts resubmissions in
one lineage (WATCHER_ATTEMPT); reaching it is a permanent failure, which the ledger turns into
an `action_failed` event rules can mail on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.lang.durations import parse_duration
from watcher.lang.errors import type_word
from watcher.pbs import lineage as lin
from watcher.pbs.durations import PbsDuration
from watcher.pbs.errors import parse_qstat_stderr
from watcher.pbs.job_ids import IdSet
from watcher.pbs.parse import QstatDocument, parse_qstat_json
from watcher.pbs.snapshot import JobSnapshot
from watcher.pbs.submit_args import (
    SubmitArgsError,
    drop_w_attributes,
    parse_submit_arguments,
    quote_value,
    replace_resource,
    set_variables,
)
from watcher.templating import is_template

if TYPE_CHECKING:
    from watcher.pbs.commands import CommandResult

# The job whose event fired the rule; rendered like a written template (ActionCall.bind).
DEFAULT_JOB = "{{ job.id }}"
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Params(ActionParams):
    """Which job, how many resubmissions a lineage may have, and what to change."""

    job: str = Field(DEFAULT_JOB, min_length=1)
    max_attempts: int = Field(3, ge=1)
    # `04:00:00`, `4h`, 14400 (seconds) or `{{ job.resources.walltime * 2 }}`; sent as HH:MM:SS.
    walltime: str | None = None
    queue: str | None = Field(None, pattern=r"^\S+$")
    hold: bool = False
    variables: dict[str, str] = Field(default_factory=dict)
    script: str | None = Field(None, min_length=1)

    @field_validator("walltime", mode="before")
    @classmethod
    def _walltime(cls, value: object) -> str | None:
        return None if value is None else walltime_text(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _VAR_NAME.match(name) or name in lin.LINEAGE_TAGS or name.startswith("PBS_O_"):
                raise ValueError(f"{name!r} is not a variable name a job may be given")
            try:
                quote_value(text, name)  # raises for a value qsub -v cannot carry intact
            except SubmitArgsError as exc:
                raise ValueError(str(exc)) from None
        return value


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Find an earlier submission of this intent, else rebuild the command line and qsub."""
    if is_template(params.job):  # the default reached us unrendered: no job to act on
        return Outcome.failed(f"job {params.job!r} was not rendered", retryable=False)
    wanted = IdSet([params.job])
    doc = _document(await ctx.pbs.run("qstat", "-f", "-F", "json", "-x"), wanted)
    if isinstance(doc, Outcome):
        return doc
    old = next((job for job_id, job in doc.jobs.items() if job_id in wanted), None)
    earlier = lin.tagged_with(doc, ctx.idempotency_key, wanted)
    if earlier is not None:
        return await _found(ctx, earlier, old)
    if old is None:
        return Outcome.failed(f"job {params.job} is unknown to PBS (finished jobs are shown only "
                              "while the server keeps job history)", retryable=False)
    return await _resubmit(ctx, params, old)


async def _found(ctx: ActionContext, earlier: JobSnapshot, old: JobSnapshot | None) -> Outcome:
    """An earlier run of this intent submitted `earlier`: report it, record its lineage."""
    tags = earlier.variables
    parent = tags[lin.RESUBMIT_OF]  # tagged_with() matched it against the job asked for
    lineage = await _lineage(ctx, parent, old.variables if old else {lin.ROOT: tags.get(lin.ROOT)})
    await _record(ctx, lineage, parent, earlier.id)
    return Outcome.done(f"{parent} was already resubmitted as {earlier.id} by this intent",
                        job_id=earlier.id, resubmitted_from=parent,
                        attempt=lin.attempt_of(tags), root=lineage.root)


async def _resubmit(ctx: ActionContext, params: Params, old: JobSnapshot) -> Outcome:
    lineage = await _lineage(ctx, old.id, old.variables)
    attempt = lin.attempt_of(old.variables) + 1
    if attempt > params.max_attempts:
        return Outcome.failed(f"max_attempts ({params.max_attempts}) reached for {lineage.root} "
                              f"(newest job {old.id})", retryable=False)
    workdir = old.workdir
    if not workdir or not Path(workdir).is_dir():
        return Outcome.failed(f"{old.id}: its working directory {workdir!r} is not there",
                              retryable=False)
    try:
        argv = command_line(old, params, lin.tags(old.id, lineage, attempt, ctx.idempotency_key))
    except SubmitArgsError as exc:
        return Outcome.failed(f"cannot resubmit {old.id}: {exc}", retryable=False)
    result = await ctx.pbs.run("qsub", *argv, cwd=Path(workdir))
    new_id = result.stdout.strip().splitlines()[0].strip() if result.stdout.strip() else ""
    if not result.ok or not new_id:
        return _qsub_failed(result)
    await _record(ctx, lineage, old.id, new_id)
    return Outcome.done(f"resubmitted {old.id} as {new_id} (attempt {attempt} of "
                        f"{params.max_attempts})", job_id=new_id, resubmitted_from=old.id,
                        attempt=attempt, root=lineage.root)


def walltime_text(value: object) -> str:
    """A walltime as qsub takes it (`HH:MM:SS`), from PBS's own forms or a rule duration."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | timedelta):
        raise ValueError(f"expected a walltime like '04:00:00', '4h' or seconds but got "
                         f"{type_word(value)}")
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        if "from 00 to 59" in str(exc):  # the form is right, a field is out of range
            raise
        raise ValueError(f"expected a walltime like '04:00:00', '4h' or seconds but got "
                         f"'{value}'") from None
    return str(PbsDuration.of(duration))


def command_line(old: JobSnapshot, params: Params, tags: dict[str, str]) -> list[str]:
    """The qsub arguments that submit `old` again with the params' changes (pure)."""
    args = parse_submit_arguments(old.submit_arguments)
    if args.has("I"):
        raise SubmitArgsError("an interactive job (qsub -I) cannot be resubmitted")
    args = drop_w_attributes(args.without("h", "z"), ("depend", "block"))
    if params.hold:
        args = args.plus("h")
    if params.walltime:
        args = replace_resource(args, "walltime", params.walltime)
    if params.queue:
        args = args.without("q").plus("q", params.queue)
    if not args.has("N") and old.name:
        args = args.plus("N", old.name)
    args = set_variables(args, params.variables, tags=tags, known=old.variables,
                         drop=lambda name: name in lin.LINEAGE_TAGS)
    if args.script is None and not args.command:
        if params.script is None:
            raise SubmitArgsError(
                "its script was read from standard input and PBS keeps no path to it; give "
                "the script's path with `script:`")
        args = replace(args, script=params.script)
    return args.argv()


def _document(result: CommandResult, wanted: IdSet) -> QstatDocument[JobSnapshot] | Outcome:
    """The listing, or a retryable failure when PBS did not answer in full."""
    if result.returncode in (None, 255) or parse_qstat_stderr(result.stderr).unreachable:
        return Outcome.failed(result.describe(), retryable=True)

    def select(job_id: str, attrs: dict[str, object]) -> bool:
        variables = attrs.get("Variable_List")  # a dict; the text form only in odd builds
        return job_id in wanted or (isinstance(variables, dict | str) and lin.INTENT in variables)

    doc = parse_qstat_json(result.stdout, select=select)
    if not doc.complete:
        return Outcome.failed(f"{result.describe()}: incomplete qstat output", retryable=True)
    return doc


def _qsub_failed(result: CommandResult) -> Outcome:
    """Server unreachable or no answer: retry (the intent tag prevents a double submission).
    PBS refusing the job (bad option, unknown queue, missing script) is permanent."""
    if result.ok:  # accepted, yet no id: the next run finds the job by its tag
        return Outcome.failed(f"{result.describe()}: qsub printed no job id", retryable=True)
    retry = result.returncode is None or parse_qstat_stderr(result.stderr).unreachable
    return Outcome.failed(result.describe(), retryable=retry)


async def _lineage(ctx: ActionContext, parent: str, tags: Mapping[str, str | None]) -> lin.Lineage:
    """The store's record of `parent`'s lineage, else what the tags tell."""
    store = ctx.services.store
    if store is not None:
        from watcher.pbs.lineage_facts import lineage_of  # late: see watcher.actions.base
        known = await asyncio.to_thread(lineage_of, store, parent)
        if known is not None:
            return known
    return lin.lineage_from_tags(parent, {k: v for k, v in tags.items() if v})


async def _record(ctx: ActionContext, lineage: lin.Lineage, parent: str, job_id: str) -> None:
    store = ctx.services.store
    if store is not None:
        from watcher.pbs.lineage_facts import record_lineage  # late: see watcher.actions.base
        await asyncio.to_thread(record_lineage, store, lineage.extended(parent, job_id))
