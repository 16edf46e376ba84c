"""`watcher rules`: check, list and test rule files, and print their JSON Schema."""

from __future__ import annotations

import click

from watcher.cli._lazy import Lazy, LazyGroup


@click.group(cls=LazyGroup, lazy={
    "check": Lazy("watcher.cli.rules.check:check", "Validate rule files and print every error."),
    "list": Lazy("watcher.cli.rules.list:list_rules", "List rules and what they are doing."),
    "schema": Lazy("watcher.cli.rules.schema:schema", "Print the JSON Schema of rule files."),
    "test": Lazy("watcher.cli.rules.test:test_rules",
                 "Replay a timeline and show what would fire."),
})
def rules() -> None:
    """Check, list and test rule files, and print their JSON Schema."""
