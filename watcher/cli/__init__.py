"""The `watcher` command line. Each subcommand lives in the module its name says."""

from __future__ import annotations

import click

from watcher import __version__
from watcher.cli._lazy import LazyGroup
from watcher.cli.errors import run_cli

# One line per command group; the module holds the command of that name.
COMMANDS = {
    "sim": "watcher.cli.sim:sim",
    "demo": "watcher.cli.demo:demo",
    "history": "watcher.cli.history:history",
    "login": "watcher.cli.login:login",
    "logout": "watcher.cli.logout:logout",
    "rules": "watcher.cli.rules:rules",
    "recover": "watcher.cli.recover:recover",
    "run": "watcher.cli.run:run",
    "silence": "watcher.cli.silence:silence",
    "stage": "watcher.cli.stage:stage",
    "status": "watcher.cli.status:status",
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="watcher")
def cli() -> None:
    """Trigger-action monitoring for PBS jobs and Globus transfers."""


def main() -> None:
    run_cli(cli)
