"""`watcher sim`: the simulators shipped with watcher (a PBS server, a Globus service)."""

from __future__ import annotations

import click

from watcher.cli._lazy import LazyGroup


@click.group(cls=LazyGroup, lazy={
    "pbs": "watcher.cli.sim.pbs:pbs",
    "globus": "watcher.cli.sim.globus:globus",
})
def sim() -> None:
    """Run the embedded PBS simulator and Globus emulator."""
