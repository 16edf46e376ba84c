"""`watcher demo` from start to end: a directory, the world in it, a few lines saying what is
simulated, the scenarios streamed as they run, then the report. The world is stopped (every
process, thread and socket) and the directory removed (unless kept) whatever happens.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from watcher.demo.facts import Email
from watcher.demo.report import Outcome, exit_code
from watcher.demo.runner import run_scenarios
from watcher.demo.scenarios import SCENARIOS, Scenario
from watcher.demo.setup import prepare
from watcher.demo.stream import COLOURS, Stream
from watcher.demo.world import EMAIL, DemoWorld, Knobs


class DirectoryNotEmpty(Exception):
    """`--keep DIR` names a directory that already holds something."""


@dataclass(frozen=True)
class DemoResult:
    """What a demo run found: each scenario's outcome, the mail sent, how long it took, and the
    directory kept (if asked)."""

    outcomes: list[Outcome]
    emails: list[Email]
    seconds: float
    kept: Path | None

    @property
    def exit_code(self) -> int:
        """What `watcher demo` exits with: 0 only if every scenario behaved."""
        return exit_code(self.outcomes)


def run_demo(console: Console, *, keep: Path | None = None, timeout: float = 50.0,
             knobs: Knobs | None = None, scenarios: Sequence[Scenario] = SCENARIOS) -> DemoResult:
    """Run the scenarios; `console` gets the intro and the stream (not the report)."""
    began = time.monotonic()
    with _directory(keep) as root, DemoWorld(root, knobs or Knobs()) as world:
        for scenario in scenarios:
            prepare(world, scenario)
        intro(console, world, scenarios, kept=keep is not None)
        stream = Stream(console, datetime.now(UTC))
        outcomes = asyncio.run(run_scenarios(world, scenarios, stream, timeout))
        emails = [Email.of(message) for message in world.sink.messages]
    return DemoResult(outcomes, emails, time.monotonic() - began, keep)


@contextmanager
def _directory(keep: Path | None) -> Iterator[Path]:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="watcher-demo-") as name:
            yield Path(name)
        return
    keep = keep.resolve()
    if keep.exists() and any(keep.iterdir()):
        raise DirectoryNotEmpty(f"{keep} is not empty: give a new or empty directory")
    keep.mkdir(parents=True, exist_ok=True)
    yield keep


def intro(console: Console, world: DemoWorld, scenarios: Sequence[Scenario], *,
          kept: bool) -> None:
    """Print what the demo sets up (PBS, Globus, mail, files) and the scenarios it runs."""
    knobs = world.knobs
    where = "kept afterwards" if kept else "removed at the end; --keep DIR keeps it"
    console.print(
        "[bold]watcher demo[/]: staged workflows on a simulated cluster, watched by one "
        "watcher.\n"
        "  PBS     a simulator (4 nodes); its qsub and qstat are called by path, not on PATH\n"
        f"  Globus  an emulator on 127.0.0.1: endpoints lab, archive, scratch "
        f"({knobs.bandwidth / 1000:g} kB/s a transfer)\n"
        f"  Mail    an SMTP sink on 127.0.0.1:{world.sink.port}, for {EMAIL}\n"
        f"  Files   {escape(str(world.root))} ({where})\n"
        "Each workflow is what `watcher stage submit` makes: its compute and cleanup jobs\n"
        "held, its Globus stage-in started. The staging rules shipped with watcher do the\n"
        f"rest; the watcher polls every {knobs.poll_interval:g} s. {_count(len(scenarios))} "
        "side by side:", highlight=False)
    for s in scenarios:
        note = "  [dim](goes first: a wipe loses every job)[/]" if s.first else ""
        console.print(f"  [bold {COLOURS.get(s.letter, 'white')}]{s.letter}[/]  "
                      f"{escape(s.title)}{note}", highlight=False)
    console.print(f"\n[dim]{'time':>7}  ·  {'workflow':<9}  step: what happened[/]",
                  highlight=False)


def _count(n: int) -> str:
    words = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
    name = words[n] if n < len(words) else str(n)
    return f"{name} workflow{'s' if n != 1 else ''},"
