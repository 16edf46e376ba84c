"""`watcher rules list`: every rule, where it is written, what it does, and what it is doing.

The runtime columns (state, times fired, last fired) come from the store's `rule_state` rows,
one per rule and subject. Listing never creates a store: before the watcher's first run there
is nothing to show but the rules themselves. An invalid file is listed as such: its rules are
not in force for a watcher started now (a running watcher may still hold its last good version,
which `watcher status` cannot see either; the service log says so).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlmodel import col, select

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.config import Settings
from watcher.lang.durations import format_duration
from watcher.lang.errors import RuleError
from watcher.rules.loader import RuleSet, load_rules
from watcher.rules.model import Rule
from watcher.service.rulebook import RULEBOOK_FACT, service_view
from watcher.store.db import sqlite_path
from watcher.store.facts import get_fact
from watcher.store.models import RuleState


@dataclass
class _Runtime:
    """One rule's `rule_state` rows added up over its subjects."""

    in_condition: int = 0
    pending: int = 0
    pending_since: datetime | None = None
    fire_count: int = 0
    last_fired_at: datetime | None = None

    def add(self, row: RuleState) -> None:
        self.in_condition += row.in_condition
        self.fire_count += row.fire_count
        if row.pending_since is not None:
            self.pending += 1
            self.pending_since = min(filter(None, (self.pending_since, row.pending_since)))
        if row.last_fired_at is not None:
            self.last_fired_at = max(filter(None, (self.last_fired_at, row.last_fired_at)))


@click.command("list")
@rules_option
@db_option
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print a list of objects instead.")
def list_rules(rules: tuple[Path, ...], db_url: str | None, settings: Settings,
               as_json: bool) -> None:
    """List rules with their triggers, actions and state, and invalid rule files."""
    ruleset = load_rules(list(rules) or [paths.rules_dir()])
    runtime = _load_runtime(settings, db_url, [rule.name for rule in ruleset.rules])
    report = _service_report(settings, db_url) if runtime is not None else None
    items = [_rule_item(rule, runtime) for rule in ruleset.rules] + _invalid_items(ruleset,
                                                                                  report)
    if as_json:
        click.echo(json.dumps(items, indent=2, default=_iso, ensure_ascii=False))
    elif not items:
        click.echo("No rules.")
    else:
        console = Console()
        if console.width >= WIDE:
            console.print(_table(items, with_runtime=runtime is not None))
        else:  # eight columns in a terminal this narrow are a few letters each: a block a rule
            console.print(_blocks(items, with_runtime=runtime is not None,
                                  width=console.width), soft_wrap=True, crop=False)


def _load_runtime(settings: Settings, db_url: str | None, names: Sequence[str]
                  ) -> dict[str, _Runtime] | None:
    """Each rule's runtime, or None when there is no store yet (one is not created for this)."""
    path = sqlite_path(db_url or settings.store.url)
    if path is not None and not path.exists():
        return None
    store = open_configured_store(settings, db_url)
    try:
        with store.session(write=False) as session:
            rows = session.exec(select(RuleState).where(col(RuleState.rule).in_(names))).all()
    finally:
        store.close()
    runtime = {name: _Runtime() for name in names}
    for row in rows:
        runtime[row.rule].add(row)
    return runtime


def _service_report(settings: Settings, db_url: str | None) -> dict[str, Any] | None:
    """What the service recorded of its rule files (`RULEBOOK_FACT`), if it ran."""
    store = open_configured_store(settings, db_url)
    try:
        with store.session(write=False) as session:
            return get_fact(session, RULEBOOK_FACT)
    finally:
        store.close()


def _rule_item(rule: Rule, runtime: dict[str, _Runtime] | None) -> dict[str, Any]:
    source = rule.source
    item: dict[str, Any] = {
        "name": rule.name, "valid": True, "file": str(source.path) if source else None,
        "line": source.line if source else None, "description": rule.description,
        "enabled": rule.enabled, "triggers": [str(trigger) for trigger in rule.when],
        "conditions": [str(condition) for condition in rule.conditions],
        "limits": _limits(rule), "actions": [str(call) for call in rule.do],
        "state": None, "in_condition": None, "pending": None, "pending_since": None,
        "fire_count": None, "last_fired_at": None,
    }
    if runtime is not None:
        state = runtime[rule.name]
        item |= {"state": _state(rule, state), "in_condition": state.in_condition,
                 "pending": state.pending, "pending_since": state.pending_since,
                 "fire_count": state.fire_count, "last_fired_at": state.last_fired_at}
    return item


def _limits(rule: Rule) -> list[str]:
    limits = [f"for: {format_duration(rule.for_)}"] if rule.for_ else []
    limits += ["once"] if rule.once else []
    limits += [f"max_fires: {rule.max_fires}"] if rule.max_fires else []
    limits += [f"cooldown: {format_duration(rule.cooldown)}"] if rule.cooldown else []
    return limits


def _state(rule: Rule, state: _Runtime) -> str:
    if not rule.enabled:
        return "disabled"
    if state.pending and rule.for_ and state.pending_since:
        text = f"pending: for: {format_duration(rule.for_)} window since " \
               f"{_when(state.pending_since)}"
        return text + (f" ({state.pending} subjects)" if state.pending > 1 else "")
    if state.in_condition:
        return f"in condition: {state.in_condition} subject{'s' * (state.in_condition > 1)}"
    return "idle"


def _invalid_items(ruleset: RuleSet, report: dict[str, Any] | None) -> list[dict[str, Any]]:
    by_file: dict[Path, list[RuleError]] = {}
    for error in ruleset.errors:
        by_file.setdefault(error.path, []).append(error)
    items = []
    for path, errors in by_file.items():
        status = ruleset.files.get(path)
        items.append({"name": None, "valid": False, "file": str(path), "line": errors[0].line,
                      "service": service_view(report, path, status.sha256 if status else ""),
                      "errors": [error.to_dict() for error in errors]})
    return items


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


def _when(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
