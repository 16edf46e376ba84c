"""`watcher rules test`: replay a recorded timeline against rules, print what would fire and why.

The timeline format is described in `watcher.replay.timeline`; an example ships in
`rules/examples-timeline.yaml`. Exit 1 when the rules or the timeline have errors, or when the
timeline's `expect:` list does not match what fired.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from watcher.cli.errors import WatcherError
from watcher.cli.rules._common import plural
from watcher.engine.decide import Verdict
from watcher.events import Event
from watcher.lang.errors import RuleError
from watcher.ledger.history import summarize
from watcher.replay import (
    Comparison,
    Decision,
    Expectation,
    PlannedAction,
    ReplayResult,
    Timeline,
    TimelineError,
    compare,
    load_timeline,
    replay,
)
from watcher.rules.loader import load_rules

_DIM = {Verdict.PENDING, Verdict.CANCELLED, Verdict.SUPPRESSED}


_FORMAT = """\b
A TIMELINE is what qstat showed, step by step, and optionally what you expect:
  start: 2026-01-05T08:00:00Z         # steps are offsets from here
  steps:
    - at: 0s
      jobs: {12.pbs: {name: stage-in, state: R, variables: {COMPUTE: 13.pbs}}}
    - at: 40s
      jobs: {12.pbs: {name: stage-in, state: F, exit_status: 0, ...}}
    - {at: 60s, pbs: down}
  expect:
    - {at: 40s, rule: release-compute, action: qrls, params: {job: 13.pbs}}
The whole format: python -m pydoc watcher.replay.timeline"""


@click.command("test", epilog=_FORMAT)
@click.argument("rules_path", metavar="RULES", type=click.Path(path_type=Path))
@click.argument("timeline_path", metavar="TIMELINE", type=click.Path(path_type=Path))
@click.option("--events", "show_events", is_flag=True, help="Also print every event.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def test_rules(rules_path: Path, timeline_path: Path, show_events: bool, as_json: bool) -> None:
    """Replay a recorded timeline (YAML) against rules and show which actions would fire."""
    ruleset = load_rules([rules_path])
    _refuse(ruleset.errors, rules_path, as_json)
    try:
        timeline = load_timeline(timeline_path, rule_names=[r.name for r in ruleset.rules])
    except TimelineError as exc:
        _refuse(exc.errors, timeline_path, as_json)
        raise  # unreachable: a TimelineError has errors
    result = replay(ruleset.rules, timeline)
    comparison = None if timeline.expect is None else compare(timeline.expect, result.decisions)
    if as_json:
        click.echo(json.dumps(_as_dict(result, comparison), indent=2, ensure_ascii=False))
    else:
        _show(result, comparison, show_events)
    if comparison is not None and not comparison.ok:
        raise WatcherError(f"expectations not met: {_mismatches(comparison)}")


def _refuse(errors: list[RuleError], path: Path, as_json: bool) -> None:
    """Print the errors of a file the replay cannot use, and stop (exit 1)."""
    if not errors:
        return
    if as_json:
        click.echo(json.dumps({"errors": [error.to_dict() for error in errors]}, indent=2))
    else:
        for error in errors:
            click.echo(str(error))
    raise WatcherError(f"{plural(len(errors), 'error')} in {path}: nothing replayed")


def _show(result: ReplayResult, comparison: Comparison | None, show_events: bool) -> None:
    console = Console(highlight=False, soft_wrap=True)
    timeline, decisions = result.timeline, result.decisions
    widths = [max((len(text) for text in column), default=0) for column in zip(
        *((timeline.offset(d.at), d.rule, d.subject) for d in decisions), strict=False)]
    for entry in result.log:
        if isinstance(entry, Decision):
            console.print(_decision_line(timeline, entry, widths))
        elif show_events:
            offset = timeline.offset(entry.at).ljust(widths[0] if widths else 0)
            console.print(Text(f"{offset}  event: {_event_text(entry)}", style="cyan"))
    fired = len(result.firings)
    summary = plural(fired, "firing")
    suppressed = sum(d.verdict is Verdict.SUPPRESSED for d in decisions)
    if suppressed:
        summary += f", {suppressed} suppressed"
    if comparison is None:
        console.print(f"{summary}; no expectations")
    elif comparison.ok:
        console.print(f"{summary}; expectations: all met")
    else:
        console.print(f"{summary}; expectations: {_mismatches(comparison)}")
        _show_diff(console, timeline, comparison)


def _decision_line(timeline: Timeline, d: Decision, widths: list[int]) -> Text:
    cells = (timeline.offset(d.at), d.rule, d.subject)
    line = Text("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
    if d.verdict is Verdict.FIRE:
        line.append("  ")
        for i, action in enumerate(d.actions):
            line.append(", " if i else "")
            line.append(str(action), style="bold")
            if action.grouped:  # one intent for all the firings of its group
                line.append(" [grouped]")
            if action.error:
                line.append(f" [dead: {action.error}]", style="red")
        line.append(f"  because {d.reason}")
        return line
    line.append(f"  {d.verdict.value}: {d.reason}")
    line.stylize("dim")
    return line


def _show_diff(console: Console, timeline: Timeline, comparison: Comparison) -> None:
    if comparison.missing:
        console.print("  expected but did not happen:")
        for e in comparison.missing:
            console.print(Text(f"    - {timeline.path}:{e.line}  {_expected_text(timeline, e)}",
                               style="red"))
    if comparison.unexpected:
        console.print("  happened but not expected:")
        for d, action in comparison.unexpected:
            console.print(Text(f"    + {timeline.offset(d.at)}  {d.rule}  {d.subject}  "
                               f"{action}", style="green"))


def _expected_text(timeline: Timeline, e: Expectation) -> str:
    when = timeline.offset(e.at) if e.at is not None else "any time"
    what = (e.action or "any action") + (f"({_params(e.params)})" if e.params else "")
    return "  ".join([when, e.rule, *([e.subject] if e.subject else []), what])


def _mismatches(comparison: Comparison) -> str:
    parts = []
    if comparison.missing:
        parts.append(f"{len(comparison.missing)} not met")
    if comparison.unexpected:
        parts.append(f"{len(comparison.unexpected)} unexpected")
    return ", ".join(parts)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items())


def _event_text(event: Event) -> str:
    return summarize(event.kind, event.subject, event.change, event.previous, event.current)


def _as_dict(result: ReplayResult, comparison: Comparison | None) -> dict[str, Any]:
    timeline = result.timeline

    def when(at: datetime | None) -> dict[str, Any]:
        return {"at": at.isoformat(), "offset": timeline.offset(at)} if at else {"at": None}

    def action(a: PlannedAction) -> dict[str, Any]:
        return {"type": a.type, "step": a.step, "params": a.params, "grouped": a.grouped,
                "error": a.error}

    return {
        "timeline": str(timeline.path),
        "start": timeline.start.isoformat(),
        "decisions": [{**when(d.at), "rule": d.rule, "subject": d.subject,
                       "verdict": d.verdict.value, "reason": d.reason,
                       "actions": [action(a) for a in d.actions]} for d in result.decisions],
        "events": [{**when(e.at), "kind": e.kind, "subject": e.subject, "change": e.change,
                    "summary": _event_text(e)} for e in result.events],
        "expectations": None if comparison is None else {
            "ok": comparison.ok,
            "missing": [{"line": e.line, "rule": e.rule, **when(e.at), "subject": e.subject,
                         "action": e.action, "params": e.params} for e in comparison.missing],
            "unexpected": [{**when(d.at), "rule": d.rule, "subject": d.subject,
                            "action": action(a)} for d, a in comparison.unexpected],
        },
    }
