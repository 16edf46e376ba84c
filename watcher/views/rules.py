"""`watcher rules list`'s items: each rule, where it is written, what it does, and what it is
doing (the runtime columns come from the store's `rule_state` rows, one per rule and subject).
The CLI prints them; the HTTP API serves them with the same field names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from watcher.lang.durations import format_duration
from watcher.lang.errors import RuleError
from watcher.rules.loader import RuleSet
from watcher.rules.model import Rule
from watcher.service.rulebook import RULEBOOK_FACT, service_view
from watcher.store.facts import get_fact
from watcher.store.models import RuleState


@dataclass
class Runtime:
    """One rule's `rule_state` rows added up over its subjects."""

    in_condition: int = 0
    pending: int = 0
    pending_since: datetime | None = None
    fire_count: int = 0
    last_fired_at: datetime | None = None

    def add(self, row: RuleState) -> None:
        """Fold in one subject's row: sums, the earliest pending and the latest firing."""
        self.in_condition += row.in_condition
        self.fire_count += row.fire_count
        if row.pending_since is not None:
            self.pending += 1
            self.pending_since = min(filter(None, (self.pending_since, row.pending_since)))
        if row.last_fired_at is not None:
            self.last_fired_at = max(filter(None, (self.last_fired_at, row.last_fired_at)))


def load_runtime(session: Session, names: Sequence[str]) -> dict[str, Runtime]:
    """Each named rule's runtime, added up over its subjects."""
    rows = session.exec(select(RuleState).where(col(RuleState.rule).in_(names))).all()
    runtime = {name: Runtime() for name in names}
    for row in rows:
        runtime[row.rule].add(row)
    return runtime


def rule_items(ruleset: RuleSet, session: Session | None) -> list[dict[str, Any]]:
    """`rules list --json`: every rule of `ruleset`, then each invalid file; without a store
    (`session` None) the runtime fields are null."""
    names = [rule.name for rule in ruleset.rules]
    runtime = None if session is None else load_runtime(session, names)
    report = None if session is None else get_fact(session, RULEBOOK_FACT)
    return [rule_item(rule, runtime) for rule in ruleset.rules] + invalid_items(ruleset, report)


def rule_item(rule: Rule, runtime: dict[str, Runtime] | None) -> dict[str, Any]:
    """The `watcher rules list --json` item of a loaded rule; `runtime` adds its state."""
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


def _state(rule: Rule, state: Runtime) -> str:
    if not rule.enabled:
        return "disabled"
    if state.pending and rule.for_ and state.pending_since:
        text = f"pending: for: {format_duration(rule.for_)} window since " \
               f"{when(state.pending_since)}"
        return text + (f" ({state.pending} subjects)" if state.pending > 1 else "")
    if state.in_condition:
        return f"in condition: {state.in_condition} subject{'s' * (state.in_condition > 1)}"
    return "idle"


def invalid_items(ruleset: RuleSet, report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One item per file that failed to load, at its first error; `report`: the service's view."""
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



def when(at: datetime | None) -> str:
    """A time as the tables show it, in UTC; `-` for none."""
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
