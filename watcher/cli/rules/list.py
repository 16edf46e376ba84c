"""`watcher rules list`: every rule, where it is written, what it does, and what it is doing.

The runtime columns (state, times fired, last fired) come from the store's `rule_state` rows,
one per rule and subject. Listing never creates a store: before the watcher's first run there
is nothing to show but the rules themselves. An invalid file is listed as such: its rules are
not in force for a watcher started now (a running watcher may still hold its last good version,
which `watcher status` cannot see either; the service log says so).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.config import Settings
from watcher.rules.loader import RuleSet, load_rules
from watcher.store.db import sqlite_path
from watcher.views.rules import rule_items
from watcher.views.rules import when as _when


@click.command("list")
@rules_option
@db_option
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print a list of objects instead.")
def list_rules(rules: tuple[Path, ...], db_url: str | None, settings: Settings,
               as_json: bool) -> None:
    """List rules with their triggers, actions and state, and invalid rule files."""
    ruleset = load_rules(list(rules) or [paths.rules_dir()])
    items, runtime = _items(ruleset, settings, db_url)
    if as_json:
        click.echo(json.dumps(items, indent=2, default=_iso, ensure_ascii=False))
    elif not items:
        click.echo("No rules.")
    else:
        console = Console()
        if console.width >= WIDE:
            console.print(_table(items, with_runtime=runtime))
        else:  # eight columns in a terminal this narrow are a few letters each: a block a rule
            console.print(_blocks(items, with_runtime=runtime,
                                  width=console.width), soft_wrap=True, crop=False)


def _items(ruleset: RuleSet, settings: Settings, db_url: str | None
           ) -> tuple[list[dict[str, Any]], bool]:
    """The items, and whether they have a runtime: only with a store (none is created)."""
    path = sqlite_path(db_url or settings.store.url)
    if path is not None and not path.exists():
        return rule_items(ruleset, None), False
    store = open_configured_store(settings, db_url)
    try:
        with store.session(write=False) as session:
            return rule_items(ruleset, session), True
    finally:
        store.close()


WIDE = 120  # the narrowest terminal that shows the table's columns readably


def _blocks(items: list[dict[str, Any]], *, with_runtime: bool, width: int) -> Text:
    """One block a rule: its name and status on a line, then `when`, `if` and `do` lines,
    each on one line of the terminal (`--json` has every parameter whole)."""
    out = Text()
    for item in items:
        where = _where(item)
        if not item["valid"]:
            out.append(f"invalid file {where}\n", style="bold red")
            out.append(f"  {item['service']}\n", style="red")
            out.append(f"  {_first_error(item['errors'])}\n\n", style="red")
            continue
        status = ["enabled" if item["enabled"] else "disabled"]
        if with_runtime:
            status += [item["state"]] if item["enabled"] else []  # else it says "disabled"
            status += [f"fired {item['fire_count']}"]
            status += [f"last {_when(item['last_fired_at'])} UTC"] if item["last_fired_at"] else []
        out.append(item["name"], style="bold")
        out.append(f"  {where}  ({', '.join(status)})\n")
        lines = [("when", t) for t in item["triggers"]] + [("  ", lim) for lim in item["limits"]]
        lines += [("if", c) for c in item["conditions"]] + [("do", a) for a in item["actions"]]
        for label, text in lines:
            out.append(_crop(f"  {label:<4} {' '.join(text.split())}", width) + "\n")
        out.append("\n")
    out.rstrip()
    return out


def _crop(line: str, width: int) -> str:
    return line if len(line) <= width else line[: max(width - 1, 10)] + "…"


def _table(items: list[dict[str, Any]], *, with_runtime: bool) -> Table:
    table = Table(title="Rules", title_justify="left")
    headers = ["Name", "File", "Triggers", "Actions", "Enabled"]
    headers += ["State", "Fired", "Last fired (UTC)"] if with_runtime else []
    for header in headers:  # a rule's name stays whole: users copy it into commands
        table.add_column(header, overflow="fold", no_wrap=header in ("Name", "Enabled", "Fired"))
    for item in items:
        where = _where(item)
        if not item["valid"]:  # the error goes where the rules' triggers would be
            cells = ["invalid file", where, _first_error(item["errors"]), "", "no",
                     *([item["service"], "", ""] if with_runtime else [])]
            table.add_row(*map(Text, cells), style="red")
            continue
        when = "\n".join(item["triggers"] + item["limits"]
                         + [f"if {condition}" for condition in item["conditions"]])
        runtime = [item["state"], str(item["fire_count"]), _when(item["last_fired_at"])]
        cells = [item["name"], where, when, "\n".join(item["actions"]),
                 "yes" if item["enabled"] else "no", *(runtime if with_runtime else [])]
        table.add_row(*map(Text, cells))  # Text, not markup: `state=[H, Q]` is no style
    return table


def _where(item: dict[str, Any]) -> str:
    return f"{item['file']}:{item['line']}" if item["line"] else item["file"]


def _first_error(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    where = f"{first['field_path']}: " if first["field_path"] else ""
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}{first['message']}{more}"


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
