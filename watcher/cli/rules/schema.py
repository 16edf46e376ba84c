"""`watcher rules schema`: print the JSON Schema of rule files."""

from __future__ import annotations

import json

import click

from watcher.rules.schema import rules_json_schema


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of rule files, for editors to validate YAML."""
    click.echo(json.dumps(rules_json_schema(), indent=2))
