"""The `watcher` command line. Each subcommand lives in the module its name says."""

from __future__ import annotations

import click

from watcher import __version__
from watcher.cli._lazy import Lazy, LazyGroup
from watcher.cli.errors import run_cli

# One line per command: where it lives (imported only when run) and what `--help` says.
COMMANDS = {
    "sim": Lazy("watcher.cli.sim:sim", "Run the embedded PBS simulator and Globus emulator."),
    "demo": Lazy("watcher.cli.demo:demo", "Run staged workflows A-H on the simulators."),
    "history": Lazy("watcher.cli.history:history",
                    "Show rule firings and their actions, or a workflow's steps."),
    "login": Lazy("watcher.cli.login:login", "Log in to Globus and store refresh tokens."),
    "logout": Lazy("watcher.cli.logout:logout", "Revoke and delete the stored Globus tokens."),
    "rules": Lazy("watcher.cli.rules:rules",
                  "Check, list and test rule files; print their JSON Schema."),
    "recover": Lazy("watcher.cli.recover:recover",
                    "Resubmit the steps of a workflow that did not finish."),
    "run": Lazy("watcher.cli.run:run", "Run the watcher."),
    "serve": Lazy("watcher.cli.serve:serve",
                  "Serve the web page, REST API and /metrics read-only."),
    "silence": Lazy("watcher.cli.silence:silence", "Mute rules for a while."),
    "stage": Lazy("watcher.cli.stage:stage", "Staged workflows: stage in, compute, stage out."),
    "status": Lazy("watcher.cli.status:status", "Show sources, rules in trouble and dead actions."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="watcher")
def cli() -> None:
    """Trigger-action monitoring for PBS jobs and Globus transfers."""


def main() -> None:
    """The `watcher` console script: runs the command group, exits with its code."""
    run_cli(cli)
