"""`watcher stage submit`: a compute job between a Globus stage-in and a stage-out."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from watcher.cli._common import db_option, open_configured_store, settings_option
from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.lang.durations import parse_duration
from watcher.service.workflow_submit import (
    IncompleteWorkflow,
    SubmitProblem,
    cancel_workflow,
    resume,
    retry_workflow,
    submit,
    workflow_logs,
)
from watcher.store.db import Store
from watcher.workflows.cancel import CancelRefused
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph_retry import RetryRefused
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.specfile import SpecFileError, load_workflow_file

_PAIR = ("SRC_EP:PATH", "DST_EP:PATH")


@click.group()
def stage() -> None:
    """Staged workflows: PBS jobs and Globus transfers in order, watched by the staging rules."""


@stage.command("submit", short_help="Submit a staged workflow and print its id.")
@click.argument("script", required=False)
@click.argument("trailing_qsub_args", nargs=-1, metavar="[-- QSUB_ARGS...]")
@click.option("-f", "--file", "spec_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the workflow from a YAML file instead of options.")
@click.option("--name", help="A name for the workflow and its jobs (default: the script's).")
@click.option("--stage-in", "stage_in", nargs=2, multiple=True, metavar=" ".join(_PAIR),
              help="Copy this before compute runs (repeatable; PATH/ for a directory).")
@click.option("--stage-in-task", metavar="TASK_ID",
              help="Use this Globus transfer, already started, as the stage-in.")
@click.option("--stage-out", "stage_out", nargs=2, multiple=True, metavar=" ".join(_PAIR),
              help="Copy this after compute ends with exit 0 (repeatable).")
@click.option("--cleanup", metavar="SCRIPT",
              help="A job to run if the stage-in or compute fails.")
@click.option("--email", help="Where to send news (default: user_email from config.yaml).")
@click.option("--qsub-arg", "qsub_args", multiple=True, metavar="ARG",
              help="One qsub argument for the compute job (repeatable), e.g. --qsub-arg=-l.")
@click.option("--walltime-retries", type=click.IntRange(0, 20),
              help="How often a walltime kill is submitted again (default 1).")
@click.option("--walltime-factor", type=click.FloatRange(1, 10),
              help="Each time asking for this many times the walltime of the run killed "
                   "(default 1: the same, for a job resuming from its checkpoint).")
@click.option("--resume", metavar="WF", help="Finish submitting workflow WF after an error.")
@click.option("--queue-wait", "queue_wait", metavar="DURATION",
              help="How long you expect compute to wait in the queue, e.g. 2d (for the "
                   "credential check; default none).")
@click.option("--strict", is_flag=True,
              help="Refuse, instead of warning, when a credential would lapse first.")
@click.option("--json", "as_json", is_flag=True, help="Print the id and what was done as JSON.")
@db_option
@settings_option
def submit_command(script: str | None, trailing_qsub_args: tuple[str, ...],
                   spec_file: Path | None, resume: str | None, as_json: bool,
                   db_url: str | None, settings: Settings, queue_wait: str | None,
                   strict: bool,
                   **options: object) -> None:
    """Submit SCRIPT held, start its stage-in, and print the workflow id (or, with -f, the
    workflow in FILE: the same three steps with `script:`, any graph with `steps:`).

    Options make the graph stage-in -> compute (SCRIPT) -> stage-out, with --cleanup run only
    if the stage-in or compute failed. First each collection is asked whether the login may
    use it (a missing data_access consent refuses, naming the `watcher login --collection
    ...` to run), and each credential's lapse is compared with the expected start of the
    last transfer (a warning; `--strict` refuses)."""
    try:
        wait = parse_duration(queue_wait) if queue_wait else timedelta()
    except ValueError as exc:
        raise WatcherError(f"--queue-wait: {exc}") from exc
    store = open_configured_store(settings, db_url)
    try:
        if resume is not None:
            if script or trailing_qsub_args or spec_file or any(
                    value not in (None, ()) for value in options.values()):
                raise WatcherError("--resume WF takes no workflow options: WF has its spec")
            workflow_id, done = resume, _resume(settings, store, resume)
        else:
            spec = _spec(script, trailing_qsub_args, spec_file, options)
            workflow_id, done = _submit(settings, store, spec, wait, strict)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"workflow": workflow_id, "done": done}))
        return
    for line in done:
        click.echo(f"  {line}", err=True)
    click.echo(workflow_id)


@stage.command("schema", short_help="Print the JSON Schema of graph workflow files.")
def schema_command() -> None:
    """Print the JSON Schema of workflow files with `steps:` (for an editor's YAML language
    server: `# yaml-language-server: $schema=<file>` on the file's first line)."""
    from watcher.workflows.graph import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def _spec(script: str | None, trailing: tuple[str, ...], spec_file: Path | None,
          options: dict[str, object]) -> WorkflowSpec | GraphSpec:
    given: dict[str, Any] = {key: value for key, value in options.items()
                             if value not in (None, ())}
    if spec_file is not None:
        if script or trailing or given:
            raise WatcherError("give the workflow either with -f FILE or with options, not both")
        try:
            return load_workflow_file(spec_file)
        except SpecFileError as exc:
            raise WatcherError(str(exc)) from exc
    if script is None:
        raise WatcherError("missing SCRIPT (or -f FILE): the compute job's script")
    data = {**given, "script": script, "qsub_args": [*given.get("qsub_args", ()), *trailing]}
    for key in ("stage_in", "stage_out"):
        data[key] = [{"from": src, "to": dst} for src, dst in given.get(key, ())]
    try:
        return WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise WatcherError("; ".join(_option_error(err) for err in exc.errors())) from exc


def _option_error(err: Any) -> str:
    loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
    where = f"--{loc[0].replace('_', '-')}: " if loc else ""
    return where + str(err["msg"]).removeprefix("Value error, ")


def _submit(settings: Settings, store: Store, spec: WorkflowSpec | GraphSpec,
            queue_wait: timedelta,
            strict: bool) -> tuple[str, list[str]]:
    try:
        return submit(settings, store, spec, Path.cwd(), recorded=lambda workflow_id: click.echo(
            f"workflow {workflow_id} recorded; submitting", err=True), strict=strict,
            queue_wait=queue_wait, warn=lambda text: click.echo(f"warning: {text}", err=True))
    except SubmitProblem as exc:
        raise WatcherError(str(exc)) from exc
    except IncompleteWorkflow as exc:
        raise WatcherError(f"{exc}; the workflow is recorded: once the cause is fixed, run "
                           f"`watcher stage submit --resume {exc.workflow_id}`") from exc


def _resume(settings: Settings, store: Store, workflow_id: str) -> list[str]:
    try:
        return resume(settings, store, workflow_id)
    except IncompleteWorkflow as exc:
        raise WatcherError(str(exc)) from exc


@stage.command("cancel", short_help="Cancel a workflow: delete its jobs, cancel transfers.")
@click.argument("workflow_id", metavar="WF")
@click.option("--reason", default="", help="Why, recorded in the workflow's step log.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@db_option
@settings_option
def cancel_command(workflow_id: str, reason: str, as_json: bool, db_url: str | None,
                   settings: Settings) -> None:
    """Cancel workflow WF: qdel its jobs and cancel its Globus transfers, recording why.

    Its steps then move no further (no cleanup job runs, no mail is sent). If PBS or Globus
    could not be reached, what is left is listed: run the same command again to finish."""
    store = open_configured_store(settings, db_url)
    try:
        result = cancel_workflow(settings, store, workflow_id, reason)
    except CancelRefused as exc:
        raise WatcherError(str(exc)) from exc
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"workflow": workflow_id, "done": result.done,
                               "failed": result.failed}))
    else:
        for line in result.done:
            click.echo(f"  {line}", err=True)
        click.echo(f"workflow {workflow_id} cancelled" + (" (again)" if result.again else ""))
    if result.failed:
        raise WatcherError("; ".join(result.failed) + f"; run `watcher stage cancel "
                           f"{workflow_id}` again to finish")


@stage.command("retry", short_help="Run again the steps of a failed workflow that did not "
                                   "succeed.")
@click.argument("workflow_id", metavar="WF")
@click.argument("steps", nargs=-1, metavar="[STEP]...")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@db_option
@settings_option
def retry_command(workflow_id: str, steps: tuple[str, ...], as_json: bool, db_url: str | None,
                  settings: Settings) -> None:
    """Run again what did not succeed in workflow WF, keeping what did (like a DAGMan rescue
    DAG): every such step, or the STEPs named and the steps after them."""
    store = open_configured_store(settings, db_url)
    try:
        reopened, done = retry_workflow(settings, store, workflow_id, list(steps))
    except RetryRefused as exc:
        raise WatcherError(str(exc)) from exc
    except IncompleteWorkflow as exc:
        raise WatcherError(f"{exc}; run `watcher stage submit --resume {workflow_id}` once "
                           "the cause is fixed") from exc
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"workflow": workflow_id, "steps": reopened, "done": done}))
        return
    for line in done:
        click.echo(f"  {line}", err=True)
    click.echo(f"workflow {workflow_id}: running again {', '.join(reopened)}")


@stage.command("logs", short_help="A workflow's job output and transfer events, step by step.")
@click.argument("workflow_id", metavar="WF")
@db_option
@settings_option
def logs_command(workflow_id: str, db_url: str | None, settings: Settings) -> None:
    """Print workflow WF step by step, in the order the steps started: each step's log
    lines, its transfers' events and its jobs' stdout and stderr files, in time order."""
    store = open_configured_store(settings, db_url)
    try:
        lines = workflow_logs(settings, store, workflow_id)
    except SubmitProblem as exc:
        raise WatcherError(str(exc)) from exc
    finally:
        store.close()
    for line in lines:
        click.echo(line)
