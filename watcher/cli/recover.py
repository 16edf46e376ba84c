"""`watcher recover WF`: submit again what a staged workflow lost, keep what still runs."""

from __future__ import annotations

import json

import click

from watcher.cli._common import db_option, open_configured_store, settings_option
from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.service.workflow_submit import IncompleteWorkflow, resume


@click.command()
@click.argument("workflow_id", metavar="WF")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@db_option
@settings_option
def recover(workflow_id: str, as_json: bool, db_url: str | None, settings: Settings) -> None:
    """Submit again the steps of workflow WF whose jobs are gone, keeping its transfers."""
    store = open_configured_store(settings, db_url)
    try:
        done = resume(settings, store, workflow_id, listing=True)
    except IncompleteWorkflow as exc:
        raise WatcherError(str(exc)) from exc
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"workflow": workflow_id, "done": done}))
    elif not done:
        click.echo(f"{workflow_id}: nothing to recover (its jobs are in PBS, its transfer "
                   "is known)")
    else:
        for line in done:
            click.echo(f"{workflow_id}: {line}")
