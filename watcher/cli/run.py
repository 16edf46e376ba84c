"""`watcher run`: poll PBS, evaluate the rules and act, until stopped."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click
from filelock import FileLock, Timeout

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.cli._listen import announced, listen_options, open_face
from watcher.cli.errors import WatcherError
from watcher.config import Settings, below_floor
from watcher.engine.engine import FiringReport
from watcher.http.context import HttpContext
from watcher.http.server import HttpFace
from watcher.private import FILE_MODE
from watcher.service.scheduler import beat_forever, run_forever
from watcher.service.service import Service
from watcher.store.db import Store, sqlite_path


@click.command("run")
@rules_option
@db_option
@settings_option
@click.option("--once", is_flag=True, help="Run one cycle (poll, rules, actions) and exit.")
@click.option("--interval", type=float, help="Seconds between polls (default: from config).")
@click.option("--pbs-bin", type=click.Path(file_okay=False, path_type=Path),
              help="Directory holding qstat, qsub, ... (e.g. a simulator's DIR/bin).")
@click.option("-v", "--verbose", count=True,
              help="More log output: -v watcher's debug lines, -vv every library's too.")
@listen_options("Also serve the web page, REST API and /metrics here (e.g. 127.0.0.1:8080; "
                "default: http.listen in config.yaml, else off).")
def run(rules: tuple[Path, ...], db_url: str | None, settings: Settings, once: bool,
        interval: float | None, pbs_bin: Path | None, verbose: int, listen: str | None,
        insecure_listen: bool) -> None:
    """Poll PBS, evaluate the rules and run their actions until SIGTERM or Ctrl-C."""
    _configure_logging(verbose)
    if pbs_bin is not None:
        settings.pbs.bin_dir = pbs_bin
    if interval is not None and interval < settings.pbs.min_poll_interval:
        raise WatcherError(below_floor("--interval", interval, settings.pbs.min_poll_interval))
    listen = listen or (None if once else settings.http.listen)
    if listen and once:
        raise WatcherError("--listen serves while watcher runs; it does not go with --once")
    opened = open_face(settings, listen, insecure_listen) if listen else None
    store = open_configured_store(settings, db_url)
    lock = _single_instance(store)
    rule_paths = list(rules) or [paths.rules_dir()]
    service = Service(settings, store, rule_paths, exclusive=lock is not None)
    poll_interval = interval or settings.pbs.poll_interval
    faces = [] if opened is None else [announced(HttpFace(HttpContext(
        settings, store, rule_paths, opened[0], db_lock=service.db_lock), opened[1]),
        settings, opened[0])]
    try:
        if once:
            reports = asyncio.run(_once(service, poll_interval))
            fired = sum(1 for report in reports if report.actions)
            yours = len(service.rulebook.rules)
            staging = len(service.engine.rules) - yours
            click.echo(f"one cycle: {yours} rule{'s' * (yours != 1)} of yours and {staging} "
                       f"staging rules in force, {fired} fired")
        else:
            asyncio.run(run_forever(service, poll_interval=poll_interval, companions=faces))
    finally:
        store.close()
        if lock is not None:
            lock.release()


async def _once(service: Service, poll_interval: float) -> list[FiringReport]:
    """One cycle as an instance: what a gone one claimed is taken over, sources shared."""
    await service.start(poll_interval)
    beating = asyncio.ensure_future(
        beat_forever(service, service.settings.store.heartbeat.total_seconds()))
    try:
        # A file broken since the last run is a rules_invalid event, as at `watcher run`'s start.
        reports = await service.commit_rulebook()
        return reports + await service.cycle()
    finally:
        beating.cancel()
        await service.stop()


def _single_instance(store: Store) -> FileLock | None:
    """One `watcher run` per SQLite store: two would each see every edge and act twice.

    Several instances may share a PostgreSQL store: they share the sources under leases.
    """
    db_path = sqlite_path(str(store.engine.url))
    if db_path is None:
        return None
    lock = FileLock(f"{db_path}.lock", mode=FILE_MODE)  # 0600 whatever the umask
    try:
        lock.acquire(timeout=0)
    except Timeout:
        store.close()
        raise WatcherError(f"another `watcher run` is using {db_path} "
                           f"(lock {db_path}.lock); stop it first") from None
    return lock


# Libraries whose DEBUG lines drown watcher's own (a filelock line per store write, every
# HTTP request of globus_sdk): shown only with -vv.
_CHATTY = ("filelock", "globus_sdk", "urllib3", "asyncio", "aiosmtplib", "sqlalchemy",
           "apscheduler")


def _configure_logging(verbose: int) -> None:
    """INFO by default; -v adds watcher's DEBUG lines; -vv everyone's."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _CHATTY if verbose < 2 else ():
        logging.getLogger(name).setLevel(logging.WARNING)  # apscheduler: 3 lines a second
