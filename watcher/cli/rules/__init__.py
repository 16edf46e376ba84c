"""`watcher rules`: check, list and test rule files, and print their JSON Schema."""

from __future__ import annotations

import click

from watcher.cli._lazy import LazyGroup


@click.group(cls=LazyGroup, lazy={
    "check": "watcher.cli.rules.check:check",
    "list": "watcher.cli.rules.list:list_rules",
    "schema": "watcher.cli.rules.schema:schema",
    "test": "watcher.cli.rules.test:test_rules",
})
def rules() -> None:
    """Check, list and test rule files, and print their JSON Schema."""
