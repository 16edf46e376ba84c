"""`watcher run`: the service on an APScheduler loop until SIGTERM or Ctrl-C.

One job per source (interval with jitter, `max_instances=1` and `coalesce`, so a slow qstat never
piles up overlapping polls), one for due actions and elapsed `for:` windows, one for rule
reloads. On SIGTERM the scheduler stops taking new runs and the running ones finish: APScheduler's
shutdown cancels running coroutine jobs, and an action cancelled halfway may have acted without
recording it (a mail the server accepted, sent again after the restart), so each job runs
shielded and the stop waits for it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from watcher.service.service import Service

log = logging.getLogger(__name__)

ACT_INTERVAL = 1.0
RELOAD_INTERVAL = 2.0
PRUNE_INTERVAL = 3600.0
PRUNE_DELAY = 60.0


async def run_forever(service: Service, *, poll_interval: float) -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    running = _Running()
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    # APScheduler 3 adds uniform(0, jitter) to each period: shorten the period by half the
    # jitter so polls still come every `poll_interval` on average (a reaction-time target).
    # The jitter (pbs.poll_jitter of the interval, 6 s of 60 by default) keeps the watchers
    # of many users, started together after a login node reboots, from polling in step.
    jitter = poll_interval * service.settings.pbs.poll_jitter
    for source in service.sources:
        scheduler.add_job(running.shielded(service.poll), "interval", args=[source],
                          seconds=poll_interval - jitter / 2, jitter=jitter or None,
                          next_run_time=datetime.now(UTC), id=f"poll-{source.name}", **once)
    # Separate jobs: a failing `for:` window must not hold up due actions, nor the reverse.
    scheduler.add_job(running.shielded(service.act), "interval", seconds=ACT_INTERVAL,
                      id="act", **once)
    scheduler.add_job(running.shielded(service.tick), "interval", seconds=ACT_INTERVAL,
                      id="tick", **once)
    # A coroutine: the files load in a worker thread, the rules in force swap on the loop (a
    # swap from a worker thread could change them while a commit in another thread reads them).
    scheduler.add_job(_reload, "interval", args=[service], seconds=RELOAD_INTERVAL,
                      id="reload", **once)
    # Hourly, and soon after a start (a watcher restarted more often than hourly still prunes).
    scheduler.add_job(running.shielded(service.prune), "interval", seconds=PRUNE_INTERVAL,
                      next_run_time=datetime.now(UTC) + timedelta(seconds=PRUNE_DELAY),
                      id="prune", **once)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await asyncio.to_thread(service.record_rulebook)
    scheduler.start()
    staging = len(service.engine.rules) - len(service.rulebook.rules)
    log.info("watcher running: %d rules of yours and %d staging rules in force, polling every "
             "%gs", len(service.rulebook.rules), staging, poll_interval)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        scheduler.shutdown(wait=False)  # cancels the shields only
        await running.finish()
        await _drain(service)


class _Running:
    """The jobs running now, each in its own task that a scheduler shutdown cannot cancel."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def shielded(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def job(*args: Any) -> Any:
            task = asyncio.ensure_future(fn(*args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return await asyncio.shield(task)

        return job

    async def finish(self) -> None:
        if self._tasks:
            log.info("waiting for %d running job(s) to finish", len(self._tasks))
            await asyncio.wait(set(self._tasks))


async def _reload(service: Service) -> None:
    # Never raises: a job that raised every 2 s would log a traceback each time and, worse,
    # hide that later edits (a fixed file, a new good one) are still picked up.
    try:
        await service.reload_rules_async()
    except Exception:
        log.exception("reloading the rules failed; the rules in force stay as they were")


async def _drain(service: Service) -> None:
    """Wait for a commit in progress, so a stop never cuts a transaction short."""
    async with service._db_lock:
        pass
