"""Meters: SQL statements the store runs, CPU time of a block, resident memory.

Statements are counted with SQLAlchemy's `after_cursor_execute` event, so every statement the
watcher sends through its engine is seen, whichever module sends it. A write is an INSERT,
UPDATE or DELETE statement, counted even when it matches no row (it still takes the lock and
dirties the journal); `rows` says how many rows those statements touched.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class StatementCounter:
    """Counts statements by verb (SELECT, INSERT, ..., BEGIN) on one engine while attached."""

    engine: Engine
    verbs: Counter[str] = field(default_factory=Counter)
    rows: int = 0
    writes_seen: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        event.listen(self.engine, "after_cursor_execute", self._on_execute)

    def detach(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self._on_execute)

    def reset(self) -> None:
        self.verbs.clear()
        self.rows = 0
        self.writes_seen.clear()

    @property
    def writes(self) -> int:
        return sum(self.verbs[verb] for verb in WRITES)

    def snapshot(self) -> dict[str, Any]:
        """Counts by verb (BEGIN with its mode: IMMEDIATE takes SQLite's write lock), and the
        write statements by text, most frequent first."""
        return {"writes": self.writes, "rows_written": self.rows,
                "statements": dict(sorted(self.verbs.items())),
                "write_statements": dict(self.writes_seen.most_common(10))}

    def _on_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                    context: Any, executemany: bool) -> None:
        words = statement.split(None, 2)
        verb = words[0].upper() if words else "?"
        if verb == "BEGIN":
            verb = " ".join(words[:2]).upper()
        self.verbs[verb] += 1
        if verb in WRITES:
            self.rows += max(cursor.rowcount, 0)
            self.writes_seen[" ".join(statement.split())[:120]] += 1


@dataclass
class StageClock:
    """CPU seconds (user + system, this process: `time.process_time`) per named stage."""

    cpu: Counter[str] = field(default_factory=Counter)
    wall: Counter[str] = field(default_factory=Counter)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu[name] += time.process_time() - cpu
            self.wall[name] += time.perf_counter() - wall


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start a new peak: Linux resets the high-water mark (and ru_maxrss) on "5"."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def children_cpu() -> float:
    """CPU seconds of waited-for child processes (the PBS shims the watcher ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def distribution(values: Sequence[float]) -> dict[str, float | int]:
    """Median, p95 (nearest rank), min, max of `values`."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    p95 = ordered[max(0, -(-95 * len(ordered) // 100) - 1)]
    return {"count": len(ordered), "median": statistics.median(ordered), "p95": p95,
            "min": ordered[0], "max": ordered[-1]}


async def measured_cycle(cycle: Callable[[], Awaitable[object]], statements: StatementCounter,
                         pbs_calls: Callable[[], list[str]],
                         globus_counts: Callable[[], dict[str, int]]) -> dict[str, Any]:
    """Run `cycle` once and count what it cost: CPU and wall seconds, peak and starting RSS,
    store statements, the PBS commands it ran (`pbs_calls()` lists every call so far) and the
    Globus requests by route (`globus_counts()`: the emulator's counters)."""
    gc.collect()
    rss_before = current_rss_mb()
    reset_peak_rss()
    statements.reset()
    mark, before = len(pbs_calls()), globus_counts()
    cpu, wall = time.process_time(), time.perf_counter()
    await cycle()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = globus_counts()
    return {"cpu": cpu, "wall": wall, "peak_rss_mb": peak_rss_mb(),
            "rss_before_mb": rss_before, "store": statements.snapshot(),
            "pbs_calls": dict(Counter(pbs_calls()[mark:])),
            "globus_requests": {r: after[r] - before.get(r, 0) for r in after
                                if after[r] != before.get(r, 0)}}
