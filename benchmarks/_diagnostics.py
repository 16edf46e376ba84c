"""Side measurements behind the findings in RESULTS.md: what a suggested change would save.

Each runs the current code and an alternative on the same live world, one after the other.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import time
from typing import Any

from _measure import current_rss_mb, peak_rss_mb, reset_peak_rss
from sqlmodel import col, select

from watcher.sources.globus import GlobusSource
from watcher.sources.pbs import QSTAT_ARGS, PbsSource
from watcher.store.db import Store
from watcher.store.models import Fact


def watched_ids_cost(source: GlobusSource, store: Store) -> dict[str, Any]:
    """The Globus poll's first step, `watched_ids()`, against reading only the keys."""
    out = {}
    for name, way in (("GlobusSource.watched_ids()", source.watched_ids),
                      ("keys only (select Fact.key)", lambda: _keys_only(store))):
        cpu = []
        for _ in range(3):
            started = time.process_time()
            way()
            cpu.append(time.process_time() - started)
        out[name] = statistics.median(cpu)
    return {"watched_ids_cpu": out}


async def qstat_read_cost(source: PbsSource) -> dict[str, Any]:
    """Reading the same qstat answer two ways: CPU, and how far resident memory peaks
    above where it was (the poll stage's share of the cycle's CPU and memory)."""
    argv = [source.commands.path("qstat"), *QSTAT_ARGS]

    async def piped() -> object:
        return await source.commands.run("qstat", *QSTAT_ARGS)

    async def plain() -> object:
        return subprocess.run(argv, capture_output=True, check=False).stdout.decode(
            errors="replace")

    out = {}
    for name, way in (("PbsCommands.run (asyncio pipes)", piped),
                      ("subprocess.run + decode", plain)):
        cpu, peak = [], []
        for _ in range(3):
            gc.collect()
            reset_peak_rss()
            before, started = current_rss_mb(), time.process_time()
            text = await way()
            cpu.append(time.process_time() - started)
            peak.append(peak_rss_mb() - before)
            del text
        out[name] = {"cpu": statistics.median(cpu), "peak_rss_above_mb": max(peak)}
    return {"qstat_read": out}


def _keys_only(store: Store) -> set[str]:
    """The watched task ids read as bare keys: no ORM objects, no JSON values decoded."""
    prefix = "watch:globus:"
    with store.session(write=False) as session:
        keys = session.exec(select(Fact.key).where(col(Fact.key).startswith(prefix))).all()
    return {key[len(prefix):] for key in keys}
