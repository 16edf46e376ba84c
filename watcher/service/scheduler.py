"""`watcher run`: the service on an APScheduler loop until SIGTERM or Ctrl-C.

One job per source (interval with jitter, `max_instances=1` and `coalesce`, so a slow qstat never
piles up overlapping polls), one for due actions and elapsed `for:` windows, one for rule
reloads. On SIGTERM the scheduler stops taking new runs and the running ones finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from watcher.service.service import Service

log = logging.getLogger(__name__)

ACT_INTERVAL = 1.0
RELOAD_INTERVAL = 2.0


async def run_forever(service: Service, *, poll_interval: float) -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    for source in service.sources:
        scheduler.add_job(service.poll, "interval", args=[source], seconds=poll_interval,
                          jitter=max(poll_interval * 0.1, 0) or None,
                          next_run_time=datetime.now(UTC), id=f"poll-{source.name}", **once)
    scheduler.add_job(_act_and_tick, "interval", args=[service], seconds=ACT_INTERVAL,
                      id="act", **once)
    scheduler.add_job(service.reload_rules, "interval", seconds=RELOAD_INTERVAL, id="reload",
                      **once)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    scheduler.start()
    log.info("watcher running: %d rules, polling every %gs", len(service.rulebook.rules),
             poll_interval)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        scheduler.shutdown(wait=False)
        await _drain(service)


async def _act_and_tick(service: Service) -> None:
    await service.tick()
    await service.act()


async def _drain(service: Service) -> None:
    """Wait for a commit in progress, so a stop never cuts a transaction short."""
    async with service._db_lock:
        pass
