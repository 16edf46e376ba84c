"""`watcher status`: what needs the user's attention, one section after another (the
sections are `watcher.views.status`'s, which the HTTP API serves too)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.config import Settings
from watcher.rules.loader import load_rules
from watcher.store.db import sqlite_path
from watcher.views.status import Section, StatusInputs, collect


@click.command("status")
@rules_option
@db_option
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
def status(rules: tuple[Path, ...], db_url: str | None, settings: Settings,
           as_json: bool) -> None:
    """Show source health, instances, rules in trouble, dead intents, pending for: windows and
    workflows."""
    ruleset = load_rules(list(rules) or [paths.rules_dir()])
    path = sqlite_path(db_url or settings.store.url)
    if path is not None and not path.exists():  # never create a store just to look at it
        click.echo(f"No store yet: {path} does not exist (has the watcher run?).",
                   err=as_json)
        sections = collect(StatusInputs(ruleset, None, settings))
    else:
        store = open_configured_store(settings, db_url)
        try:
            with store.session(write=False) as session:
                sections = collect(StatusInputs(ruleset, session, settings))
        finally:
            store.close()
    if as_json:
        click.echo(json.dumps({s.key: s.rows for s in sections}, indent=2, default=_iso,
                              ensure_ascii=False))
    else:
        _show(sections)


def _show(sections: list[Section]) -> None:
    console = Console()
    for section in sections:
        if not section.rows:
            console.print(Text.assemble((section.title, "bold"), ": ", (section.empty, "dim")))
            continue
        table = Table(title=section.title, title_justify="left", title_style="bold")
        for header in section.columns.values():
            table.add_column(header, overflow="fold")
        for row in section.rows:
            table.add_row(*(_cell(row[key]) for key in section.columns))
        console.print(table)


def _cell(value: Any) -> Text:
    """Plain text, never markup: an error message may well contain `[brackets]`."""
    if value is None:
        return Text("-")
    if isinstance(value, bool):
        return Text("yes" if value else "no", style=None if value else "red")
    if isinstance(value, datetime):
        return Text(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(value, list):
        return Text(", ".join(map(str, value)) or "-")
    return Text(str(value))


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
