"""`watcher history`: which rules fired, for what, and what their actions did."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from watcher.cli.errors import WatcherError
from watcher.config import SettingsError, load_settings
from watcher.ledger.history import ActionLine, FiringLine, load_history
from watcher.store.db import Store, open_store, sqlite_path, without_secrets
from watcher.store.migrations import SchemaError

_ERROR_WIDTH = 60


@click.command()
@click.argument("workflow", metavar="[WF]", required=False)
@click.option("--db", "db_url", metavar="URL", help="Database URL (default: from config.yaml).")
@click.option("--rule", help="Only firings of this rule.")
@click.option("--subject", help="Only firings for this job id, task id or other subject.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1),
              help="How many of the most recent firings.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def history(workflow: str | None, db_url: str | None, rule: str | None, subject: str | None,
            limit: int, as_json: bool) -> None:
    """Show which rules fired, for what, and what each of their actions did, newest last;
    with WF, the step log of that staged workflow."""
    url = db_url or _configured_url()
    path = sqlite_path(url)
    if path is not None and not path.exists():
        click.echo("[]" if as_json else f"No history yet: {path} does not exist.")
        return
    store = _open(url)
    if workflow is not None:
        try:
            _workflow(store, workflow, as_json)
        finally:
            store.close()
        return
    try:
        lines = load_history(store, rule=rule, subject=subject, limit=limit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_jsonable(line) for line in lines], indent=2))
    elif not lines:
        click.echo("No firings recorded" + (" that match." if rule or subject else "."))
    else:
        Console().print(_table(lines))


def _workflow(store: Store, workflow_id: str, as_json: bool) -> None:
    from watcher.workflows.show import graph_steps, graph_table, header, history, log_line

    with store.session(write=False) as session:
        found = history(session, workflow_id)
    if found is None:
        raise WatcherError(f"no workflow '{workflow_id}' (see 'watcher status')")
    wf, lines = found
    log = [{"at": line.at.isoformat(), "step": line.step, "text": line.text} for line in lines]
    if as_json:
        click.echo(json.dumps({"workflow": wf.id, "name": wf.name, "state": wf.step,
                               "steps": graph_steps(wf), "log": log}, indent=2))
        return
    click.echo(header(wf))
    for text in graph_table(wf):
        click.echo(text)
    for line in lines:
        click.echo(log_line(line))


def _configured_url() -> str:
    try:
        return load_settings().store.url
    except SettingsError as exc:
        raise WatcherError(str(exc)) from exc


def _open(url: str) -> Store:
    try:
        return open_store(url)
    except (SQLAlchemyError, SchemaError, ValueError) as exc:  # ValueError: a bad port
        cause = getattr(exc, "orig", None) or exc
        raise WatcherError(without_secrets(f"cannot open the store at {url}: {cause}", url)
                           ) from exc


def _table(lines: list[FiringLine]) -> Table:
    table = Table(title="Rule firings", title_justify="left")
    for name in ("Time (UTC)", "Rule", "Subject", "Event", "Reason", "Actions"):
        table.add_column(name, overflow="fold")
    for line in lines:
        table.add_row(_when(line.at), line.rule, line.subject, line.event, line.reason,
                      "\n".join(_action(a) for a in line.actions) or "-")
    return table


def _action(action: ActionLine) -> str:
    text = f"{action.step} {action.action} {action.status}"
    if action.attempts > 1:
        text += f" ×{action.attempts}"
    if action.next_attempt_at is not None and action.attempts:
        text += f", retry at {_when(action.next_attempt_at)}"
    if action.last_error:
        error = action.last_error
        text += ": " + (error if len(error) <= _ERROR_WIDTH else error[:_ERROR_WIDTH - 1] + "…")
    return text


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _jsonable(line: FiringLine) -> dict[str, Any]:
    return dataclasses.asdict(line, dict_factory=lambda items: {
        k: v.isoformat() if isinstance(v, datetime) else v for k, v in items})
