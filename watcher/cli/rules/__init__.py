"""`watcher rules`: check rule files and print their JSON Schema."""

from __future__ import annotations

import click

from watcher.cli._lazy import LazyGroup


@click.group(cls=LazyGroup, lazy={
    "check": "watcher.cli.rules.check:check",
    "schema": "watcher.cli.rules.schema:schema",
})
def rules() -> None:
    """Check rule files and print their JSON Schema."""
