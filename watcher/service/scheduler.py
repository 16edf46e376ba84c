"""`watcher run`: the service on an APScheduler loop until SIGTERM or Ctrl-C.

One job per source (interval with jitter, `max_instances=1` and `coalesce`, so a slow qstat never
piles up overlapping polls), one for due actions and elapsed `for:` windows, one for rule
reloads; beside them a heartbeat (`Service.heartbeat`) that keeps running while a stop waits.

On SIGTERM or Ctrl-C the scheduler stops taking new runs and the running ones finish: an action
cancelled halfway may have acted without recording it (a mail the server accepted, sent again
after the restart). APScheduler's shutdown would cancel running coroutine jobs (and log each as
an error with a traceback), so its executor here cancels nothing and the stop waits instead.
Then the instance hands back what it holds and the process exits 0, after one INFO line. A
second signal stops at once (exit 128 + signal): what was running is left to its leases, which
the next start, or another instance, takes over.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from watcher import failpoints
from watcher.service.service import Service
from watcher.sources.base import Source

log = logging.getLogger(__name__)

ACT_INTERVAL = 1.0
RELOAD_INTERVAL = 2.0
PRUNE_INTERVAL = 3600.0
PRUNE_DELAY = 60.0


class Companion(Protocol):
    """Something that runs beside the service in its loop (the HTTP face) and stops first."""

    async def serve(self) -> None:
        """Run until `stop` is called; the service awaits it as one of its tasks."""

    def stop(self) -> None:
        """Ask `serve` to return soon; called before the service itself stops."""


async def run_forever(service: Service, *, poll_interval: float,
                      heartbeat: float | None = None,
                      companions: Sequence[Companion] = ()) -> None:
    """Run `service` until SIGTERM or SIGINT (see the module docstring), with `companions`
    serving beside it from its start until the stop begins."""
    stop = _Stop()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.signalled, sig)
    failpoints.arm()  # a crash test's SIGUSR2, if it asks for one
    await service.start(poll_interval)  # due claims of a gone instance are free from here
    scheduler = AsyncIOScheduler(timezone=UTC, executors={"default": _Uncancelling()})
    running = _Running()
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    # APScheduler 3 adds uniform(0, jitter) to each period: shorten the period by half the
    # jitter so polls still come every `poll_interval` on average (a reaction-time target).
    # The jitter (pbs.poll_jitter of the interval, 6 s of 60 by default) keeps the watchers
    # of many users, started together after a login node reboots, from polling in step.
    jitter = poll_interval * service.settings.pbs.poll_jitter
    for source in service.sources:
        scheduler.add_job(running.tracked(_poller(scheduler, service)), "interval", args=[source],
                          seconds=poll_interval - jitter / 2, jitter=jitter or None,
                          next_run_time=datetime.now(UTC), id=f"poll-{source.name}", **once)
    # Separate jobs: a failing `for:` window must not hold up due actions, nor the reverse.
    scheduler.add_job(running.tracked(service.act), "interval", seconds=ACT_INTERVAL,
                      id="act", **once)
    scheduler.add_job(running.tracked(service.tick), "interval", seconds=ACT_INTERVAL,
                      id="tick", **once)
    # A coroutine: the files load in a worker thread, the rules in force swap on the loop (a
    # swap from a worker thread could change them while a commit in another thread reads them).
    scheduler.add_job(_reload, "interval", args=[service], seconds=RELOAD_INTERVAL,
                      id="reload", **once)
    # Hourly, and soon after a start (a watcher restarted more often than hourly still prunes).
    scheduler.add_job(running.tracked(service.prune), "interval", seconds=PRUNE_INTERVAL,
                      next_run_time=datetime.now(UTC) + timedelta(seconds=PRUNE_DELAY),
                      id="prune", **once)
    beating = asyncio.ensure_future(beat_forever(service, heartbeat or
                                          service.settings.store.heartbeat.total_seconds()))
    # Due actions first (those of a gone instance among them), before the first polls start.
    first_act = asyncio.ensure_future(running.tracked(service.act)())
    await service.commit_rulebook()  # and a file broken since the last run: rules_invalid
    scheduler.start()
    serving = [asyncio.ensure_future(companion.serve()) for companion in companions]
    staging = len(service.engine.rules) - len(service.rulebook.rules)
    log.info("watcher running: %d rules of yours and %d staging rules in force, polling every "
             "%gs", len(service.rulebook.rules), staging, poll_interval)
    try:
        await _until_stopped(stop, serving)
    finally:
        for companion in companions:  # no new requests; those in flight finish
            companion.stop()
        await asyncio.gather(*serving, return_exceptions=True)
        service.runner.stopping = True  # the batch running now finishes; none is claimed after
        running.closed = True  # a job the scheduler starts from now on returns at once
        scheduler.shutdown(wait=False)
        log.info("stopping on %s%s", stop.name, _waiting(service.runner.holding))
        await running.finish()
        await first_act
        beating.cancel()
        await _drain(service)
        await service.stop()


async def _until_stopped(stop: _Stop, serving: list[asyncio.Future[None]]) -> None:
    """Wait for the stop; a companion that dies (its error logged) stops nothing else."""
    waiting = asyncio.ensure_future(stop.event.wait())
    pending = {waiting, *serving}
    while not stop.event.is_set():
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done - {waiting}:
            if not task.cancelled() and task.exception() is not None:
                log.error("the HTTP face stopped: %s", task.exception())
    waiting.cancel()


class _Stop:
    """The first SIGTERM/SIGINT asks for a clean stop; a second one exits at once."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.name = "a request"

    def signalled(self, sig: int) -> None:
        if self.event.is_set():
            log.warning("second %s: stopping at once; running actions are left to their "
                        "leases", signal.Signals(sig).name)
            logging.shutdown()
            os._exit(128 + sig)
        self.name = signal.Signals(sig).name
        self.event.set()


def _poller(scheduler: AsyncIOScheduler, service: Service) -> Callable[[Source], Awaitable[None]]:
    async def poll(source: Source) -> None:
        """Poll; if another instance holds the source and its lease runs out before this
        job's next run, run again just after: a dead holder is replaced within two intervals."""
        await service.poll(source)
        free_at = service.free_at(source)
        job = scheduler.get_job(f"poll-{source.name}")
        if free_at is None or job is None or job.next_run_time is None:
            return
        at = max(free_at + timedelta(seconds=0.02), datetime.now(UTC) + timedelta(seconds=0.05))
        if at < job.next_run_time:
            job.modify(next_run_time=at)

    return poll


async def beat_forever(service: Service, every: float) -> None:
    """The heartbeat, apart from the scheduler: it must go on while a stop waits for actions."""
    while True:
        await asyncio.sleep(every)
        try:
            await service.heartbeat()
        except Exception as exc:  # a database hiccup: the next beat tries again
            log.warning("heartbeat failed: %s", exc)


class _Uncancelling(AsyncIOExecutor):
    """APScheduler's asyncio executor, except that its shutdown leaves running jobs alone."""

    def shutdown(self, wait: bool = True) -> None:
        self._pending_futures.clear()


class _Running:
    """The jobs running now, so a stop can wait for them; once `closed`, none starts."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def tracked(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def job(*args: Any) -> Any:
            if self.closed:
                return None
            task = asyncio.ensure_future(fn(*args))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return await task

        return job

    async def finish(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))


def _waiting(actions: int) -> str:
    if not actions:
        return ""
    return (f": waiting for {actions} running action{'s' * (actions != 1)} to finish "
            "(a second signal stops at once)")


async def _reload(service: Service) -> None:
    # Never raises: a job that raised every 2 s would log a traceback each time and, worse,
    # hide that later edits (a fixed file, a new good one) are still picked up.
    try:
        await service.reload_rules_async()
    except Exception:
        log.exception("reloading the rules failed; the rules in force stay as they were")


async def _drain(service: Service) -> None:
    """Wait for a commit in progress, so a stop never cuts a transaction short."""
    async with service.db_lock:
        pass
