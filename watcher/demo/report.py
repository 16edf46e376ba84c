"""The end of the demo: a table of what each scenario expected and what was observed, the
emails the watcher sent, and one closing line. Pure rendering of `Outcome`s (no I/O besides
printing), so it is tested with made-up outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watcher.demo.facts import Email
from watcher.demo.stream import COLOURS

BODY_LINES = 3


@dataclass(frozen=True)
class Outcome:
    """One scenario's result. `problems` lists each broken expectation (or why the scenario
    could not finish); none means it behaved."""

    letter: str
    title: str
    expected: str
    observed: str
    seconds: float
    workflow: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """No problems: every expectation held and the scenario finished."""
        return not self.problems


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """0 only if every scenario behaved (and there was at least one)."""
    return 0 if outcomes and all(o.ok for o in outcomes) else 1


def table(outcomes: Sequence[Outcome]) -> Table:
    """One row per scenario: mark, scenario and workflow id, expected, observed, seconds."""
    grid = Table(title="What the watcher did", title_justify="left", show_lines=True)
    grid.add_column("", width=1)
    grid.add_column("Scenario", min_width=14, ratio=2)
    grid.add_column("Expected", ratio=4, overflow="fold")
    grid.add_column("Observed", ratio=4, overflow="fold")
    grid.add_column("Seconds", justify="right")
    for o in outcomes:
        mark = "[green]✓[/]" if o.ok else "[bold red]✗[/]"
        name = f"[bold {COLOURS.get(o.letter, 'white')}]{o.letter}[/] {escape(o.title)}"
        if o.workflow:
            name += f"\n[dim]{o.workflow}[/]"
        seen = escape(o.observed) if o.ok else f"[red]{escape(o.observed)}[/]"
        grid.add_row(mark, name, escape(o.expected), seen, f"{o.seconds:.1f}")
    return grid


def email_lines(emails: Sequence[Email]) -> list[str]:
    """Each email as its recipient and subject, then its first body lines, indented."""
    lines = [f"Emails received: {len(emails)}"]
    for mail in emails:
        lines.append(f"  ✉ to {mail.to}: {mail.subject}")
        body = [line.strip() for line in mail.body.splitlines() if line.strip()]
        lines += [f"      {line}" for line in body[:BODY_LINES]]
    return lines


def verdict(outcomes: Sequence[Outcome], seconds: float) -> str:
    """The closing line: all scenarios behaved, or which did not (letters), and the time."""
    bad = [o.letter for o in outcomes if not o.ok]
    if not bad:
        return f"All {len(outcomes)} scenarios behaved, in {seconds:.1f} s."
    return (f"{len(bad)} of {len(outcomes)} scenarios did not behave ({', '.join(bad)}), "
            f"in {seconds:.1f} s.")


def render(console: Console, outcomes: Sequence[Outcome], emails: Sequence[Email],
           seconds: float) -> None:
    """Print the report: the table, each problem, the emails, then the verdict."""
    console.print()
    console.print(table(outcomes))
    for o in outcomes:
        for problem in o.problems:
            console.print(f"[bold red]✗ {o.letter}[/]: {escape(problem)}", highlight=False)
    console.print()
    for line in email_lines(emails):
        console.print(escape(line), highlight=False, soft_wrap=True)
    console.print()
    style = "bold green" if exit_code(outcomes) == 0 else "bold red"
    console.print(f"[{style}]{escape(verdict(outcomes, seconds))}[/]")


def as_json(outcomes: Sequence[Outcome], emails: Sequence[Email], seconds: float
            ) -> dict[str, Any]:
    """The same report for scripts (`watcher demo --json`)."""
    return {"ok": exit_code(outcomes) == 0, "seconds": round(seconds, 2),
            "scenarios": [{"scenario": o.letter, "title": o.title, "workflow": o.workflow,
                           "ok": o.ok, "expected": o.expected, "observed": o.observed,
                           "seconds": round(o.seconds, 2), "problems": list(o.problems)}
                          for o in outcomes],
            "emails": [{"to": m.to, "subject": m.subject, "body": m.body} for m in emails]}
