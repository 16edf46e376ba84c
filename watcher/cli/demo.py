"""`watcher demo`: scenarios A to H on the simulators, streamed, then a summary table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from watcher.cli.errors import WatcherError

if TYPE_CHECKING:
    from watcher.demo.report import Outcome

_PIPE_WIDTH = 120


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Work in DIR (new or empty) and keep it: the store, mail, files.")
@click.option("--timeout", type=click.FloatRange(min=1), default=50.0, show_default=True,
              metavar="S", help="Give up on scenarios not finished after S seconds.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report as JSON (the live log goes to stderr).")
def demo(keep: Path | None, timeout: float, as_json: bool) -> None:
    """Run five staged workflows side by side on a simulated PBS cluster and Globus, watched by
    one watcher, and report whether each behaved (exit 0 only if all did)."""
    from watcher.demo import report
    from watcher.demo.run import DirectoryNotEmpty, run_demo

    live = Console(stderr=as_json, highlight=False)
    if not live.is_terminal:  # a pipe or a log file: no reason to squeeze the table into 80
        live.width = _PIPE_WIDTH
    try:
        result = run_demo(live, keep=keep, timeout=timeout)
    except DirectoryNotEmpty as exc:
        raise WatcherError(str(exc)) from exc
    except KeyboardInterrupt:
        left = f"; the files are in {keep}" if keep else " and their files removed"
        live.print(f"[bold]Interrupted[/]: the simulators are stopped{left}.")
        raise
    if as_json:
        click.echo(json.dumps(report.as_json(result.outcomes, result.emails, result.seconds),
                              indent=2))
    else:
        report.render(live, result.outcomes, result.emails, result.seconds)
        if result.kept is not None:
            _kept(live, result.kept, result.outcomes)
    click.get_current_context().exit(result.exit_code)


def _kept(console: Console, root: Path, outcomes: Sequence[Outcome]) -> None:
    home = root / "watcher"
    workflow = next((o.workflow for o in outcomes if o.workflow), "WF")
    console.print(f"Kept in {root}. Look around with the demo's settings (not yours):\n"
                  f"  export WATCHER_CONFIG_DIR={home} WATCHER_DATA_DIR={home}\n"
                  f"  watcher status\n"
                  f"  watcher history {workflow}", highlight=False, soft_wrap=True)
