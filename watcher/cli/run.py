"""`watcher run`: poll PBS, evaluate the rules and act, until stopped."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.config import Settings
from watcher.service.scheduler import run_forever
from watcher.service.service import Service


@click.command("run", short_help="Run the watcher.")
@rules_option
@db_option
@settings_option
@click.option("--once", is_flag=True, help="Run one cycle (poll, rules, actions) and exit.")
@click.option("--interval", type=float, help="Seconds between polls (default: from config).")
@click.option("--pbs-bin", type=click.Path(file_okay=False, path_type=Path),
              help="Directory holding qstat, qsub, ... (e.g. a simulator's DIR/bin).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def run(rules: tuple[Path, ...], db_url: str | None, settings: Settings, once: bool,
        interval: float | None, pbs_bin: Path | None, verbose: int) -> None:
    """Poll PBS, evaluate the rules and run their actions until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose + 1, 2),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if pbs_bin is not None:
        settings.pbs.bin_dir = pbs_bin
    store = open_configured_store(settings, db_url)
    service = Service(settings, store, list(rules) or [paths.rules_dir()])
    try:
        if once:
            reports = asyncio.run(service.cycle())
            fired = sum(1 for report in reports if report.actions)
            click.echo(f"one cycle: {len(service.rulebook.rules)} rules, {fired} fired")
        else:
            asyncio.run(run_forever(service, poll_interval=interval or
                                    settings.pbs.poll_interval))
    finally:
        store.close()
