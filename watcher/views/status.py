"""`watcher status`'s sections, as plain rows: the CLI prints them, the HTTP API serves them.

Each section is one function from `StatusInputs` to a `Section` (rows of plain values, the
columns to show); `SECTIONS` lists them in order. Adding a section is writing that function and
naming it there: the table, the JSON and the empty case come with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from watcher.config import Settings
from watcher.globus.report import PAUSED, credential_row, paused
from watcher.lang.errors import RuleError
from watcher.rules.loader import RuleSet
from watcher.service.rulebook import RULEBOOK_FACT, service_view
from watcher.store.facts import get_fact
from watcher.store.models import (
    DEAD,
    STATUSES,
    Firing,
    Instance,
    Intent,
    RuleState,
    SourceHealth,
    SourceLease,
)
from watcher.workflows.lifetime_check import workflow_credentials
from watcher.workflows.show import workflow_rows

_DEAD_SHOWN = 50


@dataclass(frozen=True)
class StatusInputs:
    """What sections read: the rule files as they are now, and the store (None before the
    watcher's first run)."""

    ruleset: RuleSet
    session: Session | None
    settings: Settings | None = None

    def empty(self, text: str = "none") -> str:
        """What a section says when it has no rows: without a store, nothing is known."""
        return "unknown (no store)" if self.session is None else text


@dataclass(frozen=True)
class Section:
    """One part of the report. `columns` maps row keys to table headers."""

    key: str
    title: str
    columns: dict[str, str]
    rows: list[dict[str, Any]]
    empty: str


def sources(inputs: StatusInputs) -> Section:
    """The "Sources" section: each source's health; Globus ones shown paused when logged out."""
    columns = {"source": "Source", "healthy": "Healthy", "failures": "Failed polls",
               "last_ok_at": "Healthy since / last answer (UTC)", "last_error": "Last error"}
    # Dead credentials are no outage (no source_down), but the Globus sources are not asking:
    # not healthy, and the error says what to do.
    is_paused, why = paused(inputs.session)
    rows = [{"source": h.source, "healthy": h.healthy, "failures": h.failures,
             "down_reported": h.down_emitted, "last_ok_at": h.last_ok_at,
             "last_error": h.last_error, "paused": False}
            for h in _all(inputs, select(SourceHealth).order_by(col(SourceHealth.source)))]
    for row in rows:
        if is_paused and row["source"].startswith("globus"):
            row.update(healthy=False, paused=True, last_error=f"{PAUSED}: {why}")
    return Section("sources", "Sources", columns, rows, inputs.empty("not polled yet"))


def instances(inputs: StatusInputs) -> Section:
    """The running `watcher run` instances, the sources each polls, their last heartbeat."""
    now = datetime.now(UTC)
    held: dict[str, list[str]] = {}
    leases = select(SourceLease).where(col(SourceLease.until) >= now).order_by(
        col(SourceLease.source))
    for lease in _all(inputs, leases):
        held.setdefault(lease.owner, []).append(lease.source)
    rows = []
    for row in _all(inputs, select(Instance).order_by(col(Instance.started_at))):
        sources = sorted({*row.sources, *held.get(row.owner, [])})
        rows.append({"instance": row.owner, "host": row.host, "pid": row.pid,
                     "started_at": row.started_at, "heartbeat_at": row.heartbeat_at,
                     "heartbeat_age": round((now - row.heartbeat_at).total_seconds(), 1),
                     "sources": sources})
    columns = {"instance": "Instance", "sources": "Polls", "started_at": "Started (UTC)",
               "heartbeat_at": "Last heartbeat (UTC)", "heartbeat_age": "Seconds ago"}
    return Section("instances", "Instances", columns, rows, inputs.empty("none running"))


def credentials(inputs: StatusInputs) -> Section:
    """The "Credentials" section: the Globus login's state and what to do about it."""
    columns = {"state": "State", "logged_in_as": "Logged in as", "token_age": "Login age",
               "last_used_at": "Refresh token last used (UTC)",
               "refresh_token_lapses_at": "Lapses if unused (UTC, estimated)",
               "missing_consents": "Collections lacking consent", "to_do": "To do"}
    settings = inputs.settings
    rows = [] if settings is None else [
        credential_row(settings.globus, inputs.session, datetime.now(UTC))]
    return Section("credentials", "Globus credentials", columns, rows, "unknown")


def rules_in_trouble(inputs: StatusInputs) -> Section:
    """The "Rules in trouble" section: each broken file's first error and the service's view."""
    rows: list[dict[str, Any]] = []
    report = None if inputs.session is None else get_fact(inputs.session, RULEBOOK_FACT)
    for error in _first_errors(inputs.ruleset):
        where = f"line {error.line}: " if error.line else ""
        field = f"{error.field_path}: " if error.field_path else ""
        status = inputs.ruleset.files.get(error.path)
        state = service_view(report, error.path, status.sha256 if status else "")
        rows.append({"name": str(error.path), "rule": None, "file": str(error.path),
                     "line": error.line,
                     "problem": f"{state}: {where}{field}{error.message}"})
    dead = _all(inputs, select(Intent.rule, func.count()).where(Intent.status == DEAD)
                .group_by(col(Intent.rule)).order_by(col(Intent.rule)))
    for rule, count in dead:
        rows.append({"name": rule, "rule": rule, "file": None, "line": None,
                     "problem": f"{count} dead intent{'s' * (count > 1)}"})
    columns = {"name": "Rule or file", "problem": "Problem"}
    return Section("rules_in_trouble", "Rules in trouble", columns, rows, "none")


def dead_intents(inputs: StatusInputs) -> Section:
    """The "Dead intents" section: the latest few, oldest first."""
    stmt = (select(Intent, Firing.subject).outerjoin(Firing, col(Intent.firing_id) == Firing.id)
            .where(Intent.status == DEAD).order_by(col(Intent.updated_at).desc())
            .limit(_DEAD_SHOWN))
    rows = [{"rule": i.rule, "action": i.action_type, "step": i.step, "subject": subject,
             "attempts": i.attempts, "last_error": i.last_error, "at": i.updated_at,
             "key": i.key} for i, subject in _all(inputs, stmt)][::-1]
    columns = {"rule": "Rule", "action": "Action", "subject": "Subject", "attempts": "Attempts",
               "last_error": "Last error", "at": "When (UTC)"}
    title = f"Dead intents (the {_DEAD_SHOWN} most recent)" if len(rows) == _DEAD_SHOWN \
        else "Dead intents"
    return Section("dead_intents", title, columns, rows, inputs.empty())


def pending_windows(inputs: StatusInputs) -> Section:
    """The "Pending windows" section: rules waiting out a `for:`, with when each is due."""
    rules = inputs.ruleset.by_name()
    stmt = select(RuleState).where(col(RuleState.pending_since).is_not(None)).order_by(
        col(RuleState.pending_since))
    rows = []
    for state in _all(inputs, stmt):
        rule = rules.get(state.rule)
        due = state.pending_since + rule.for_ if rule and rule.for_ else None
        rows.append({"rule": state.rule, "subject": state.subject, "since": state.pending_since,
                     "due": due})
    columns = {"rule": "Rule", "subject": "Subject", "since": "Since (UTC)", "due": "Due (UTC)"}
    return Section("pending_windows", "Pending for: windows", columns, rows,
                   inputs.empty())


def intent_counts(inputs: StatusInputs) -> Section:
    """The "Intents" section: a count for every status, zeros included."""
    counts = dict(_all(inputs, select(Intent.status, func.count()).group_by(col(Intent.status))))
    rows = [{"status": status, "count": counts.get(status, 0)} for status in STATUSES] \
        if inputs.session is not None else []
    columns = {"status": "Status", "count": "Intents"}
    return Section("intents", "Intents by status", columns, rows, inputs.empty())


def workflows(inputs: StatusInputs) -> Section:
    """The "Workflows" section: each live workflow, with its credential state."""
    now = datetime.now(UTC)
    rows = [] if inputs.session is None else workflow_rows(inputs.session, now)
    if inputs.session is not None and inputs.settings is not None:
        for row in rows:
            row["credentials"] = workflow_credentials(inputs.session, inputs.settings.globus,
                                                      row["id"], now)
    columns = {"id": "Workflow", "name": "Name", "step": "Step", "age": "Age",
               "summary": "Steps", "last_event": "Last event", "last_event_at": "When (UTC)",
               "credentials": "Credentials"}
    return Section("workflows", "Workflows", columns, rows, inputs.empty())


SECTIONS: list[Callable[[StatusInputs], Section]] = [
    sources, instances, credentials, rules_in_trouble, dead_intents, pending_windows,
    intent_counts, workflows]



def collect(inputs: StatusInputs) -> list[Section]:
    """Every section, in order."""
    return [section(inputs) for section in SECTIONS]


def _all(inputs: StatusInputs, stmt: Any) -> list[Any]:
    return [] if inputs.session is None else list(inputs.session.exec(stmt))


def _first_errors(ruleset: RuleSet) -> list[RuleError]:
    firsts: dict[Path, RuleError] = {}
    for error in ruleset.errors:
        firsts.setdefault(error.path, error)
    return list(firsts.values())
