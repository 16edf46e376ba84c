"""Part 1, polling economy: N staged workflows through one stage-in, watcher vs monitor jobs.

Each workflow is a held compute job, a Globus stage-in task (one file) and a rule that
releases the job when the task succeeds, as `watcher stage submit` sets them up. The watcher
runs one cycle per round; a round stands for 10 s, the period at which each hand-made monitor
job polls its task (the benchmark runs a round every `period` real seconds).

The stage-in starts when the bandwidth is turned up, after two warm-up cycles (the first one
sees everything appear). Globus runs three tasks per user at once and queues the rest (the
emulator does the same), so tasks finish one after another over the stage-in.

The monitor-job approach (`_monitors`) is modelled against the same stage-in: monitor i polls
`get_task` at rounds 0, 1, ... until it sees its task ended, i.e. k_i + 1 requests, k_i the
first round at which the task had ended. k_i is read from the emulator itself on the same
grid (`emu.tasks()`, no HTTP, not counted), so the model does not depend on the watcher being
on time. For small N the model is checked against real monitors: one thread per task, its own
client, polling the same emulator over HTTP on the same grid while the watcher runs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _monitors import RealMonitors, TaskEnds
from _world import (
    MODELLED_ROUND,
    USER,
    PbsCallLog,
    globus_settings,
    held_jobs,
    release_rule,
    submit_tasks,
    use_emulator,
    watching_service,
    write_rules,
)
from sqlmodel import func, select

from watcher.service.service import Service
from watcher.sim.globus.testing import GlobusEmulator
from watcher.sim.pbs.testing import PbsSim
from watcher.store.models import DONE, Intent

FILE_SIZE = 10_000
MONITOR_ROUTE = "GET /v0.10/task/{task_id}"
TASK_LIST = "GET /v0.10/task_list"
ENDPOINT_PROBE_EVERY = 300.0  # modelled seconds: the watcher's default endpoint_interval


@dataclass(frozen=True)
class EconomyPlan:
    """`rounds`: how many rounds the stage-in is aimed to last, whatever N (the same
    simulated stage-in). A round lasts `period(n)` real seconds: longer for large N, so that
    the simulator's Python `qrls` (~45 ms of CPU each, a real one is a C program) fits in
    the round and the watcher keeps the cadence; `late_rounds` in the result says if not."""

    ns: tuple[int, ...]
    chunk: int
    rounds: int
    base_period: float
    period_per_workflow: float
    validate_upto: int  # real monitor threads for N up to this
    # N run again with Globus polled every `default_every` rounds: the watcher's default
    # globus.poll_interval (60 s) against the monitors' 10 s
    default_ns: tuple[int, ...] = ()
    default_every: int = 6

    def period(self, n: int) -> float:
        return self.base_period + self.period_per_workflow * n


def run_economy(plan: EconomyPlan, tmp: Path) -> dict[str, Any]:
    rows = [run_one(n, plan, tmp / f"n{n}") for n in plan.ns]
    rows += [run_one(n, plan, tmp / f"n{n}-default", every=plan.default_every)
             for n in plan.default_ns]
    return {"plan": asdict(plan), "rows": rows}


def run_one(n: int, plan: EconomyPlan, tmp: Path, every: int = 1) -> dict[str, Any]:
    """One stage-in of `n` workflows; the watcher asks Globus every `every` rounds."""
    tmp.mkdir(parents=True)
    with PbsSim(tmp / "pbs", nodes=1) as sim, GlobusEmulator(tmp / "globus") as emu:
        use_emulator(emu.env)
        calls = PbsCallLog(tmp / "pbs-counted", sim.bin_dir)
        (tmp / "src").mkdir()
        (tmp / "src" / "f").write_bytes(b"x" * FILE_SIZE)
        src = emu.add_endpoint(tmp / "src", display_name="source")
        dst = emu.add_endpoint(tmp / "dst", display_name="destination")
        emu.set_bandwidth(1e-3)  # nothing moves before the stage-in starts
        user_token = emu.issue_tokens(USER)["access_token"]
        tasks = submit_tasks(user_token, src, dst, n, "stage-in")
        jobs = held_jobs(sim, n, tmp, "compute")
        write_rules(tmp / "rules", (release_rule(f"release-wf{i}", task, job)
                                    for i, (task, job) in enumerate(zip(tasks, jobs,
                                                                        strict=True))))
        rounds_per_probe = ENDPOINT_PROBE_EVERY / MODELLED_ROUND
        gs = globus_settings(tmp, emu.native_client_id, chunk=plan.chunk,
                             endpoint_interval=rounds_per_probe * plan.period(n))
        if every > 1:  # the source's own pacing; half a round early, so no round is skipped
            gs.poll_interval = (every - 0.5) * plan.period(n)
        with watching_service(tmp, calls.bin_dir, gs, emu.issue_tokens(USER), tasks,
                              tmp / "rules") as service:
            run = _StageIn(service, emu, calls, tasks, plan, user_token)
            return {**asyncio.run(run.measure()), "globus_every_rounds": every}


class _StageIn:
    """One stage-in: warm up, start the transfers, run rounds until every job is released."""

    def __init__(self, service: Service, emu: GlobusEmulator, calls: PbsCallLog,
                 tasks: list[str], plan: EconomyPlan, token: str) -> None:
        self.service, self.emu, self.calls, self.tasks, self.plan = (
            service, emu, calls, tasks, plan)
        self.token = token
        self.n = len(tasks)
        self.period = plan.period(self.n)
        self.timeout = 4 * plan.rounds * self.period + 30

    async def measure(self) -> dict[str, Any]:
        for _ in range(2):  # the first cycle sees all jobs and tasks appear
            await self.service.cycle()
        self.emu.reset_counters()
        mark = len(self.calls.calls())
        monitors = RealMonitors(self.tasks, self.token, self.period) if (
            self.n <= self.plan.validate_upto) else None
        # Globus runs 3 tasks at a time: aim for the whole stage-in to last `plan.rounds`
        self.emu.set_bandwidth(FILE_SIZE * self.n / (3 * self.plan.rounds * self.period))
        t0 = time.monotonic()
        truth = TaskEnds(self.emu, self.tasks, self.period)
        truth.start(t0, t0 + self.timeout)
        if monitors:
            monitors.start(t0, t0 + self.timeout)
        rounds = await self._rounds(t0)
        real = time.monotonic() - t0
        for waiter in (truth, monitors):
            if waiter:
                waiter.join(self.timeout)
        pbs_calls = Counter(self.calls.since(mark))
        return self._summary(rounds, real, pbs_calls, self.emu.counters(), truth, monitors)

    async def _rounds(self, t0: float) -> list[dict[str, Any]]:
        rounds: list[dict[str, Any]] = []
        while True:
            k = len(rounds)
            late = time.monotonic() - (t0 + k * self.period)
            if late < 0:
                await asyncio.sleep(-late)
            mark, before = len(self.calls.calls()), self.emu.counters()
            started = time.perf_counter()
            await self.service.cycle()
            wall = time.perf_counter() - started
            made = Counter(self.calls.since(mark))
            after = self.emu.counters()
            delta = {r: after.get(r, 0) - before.get(r, 0) for r in after}
            rounds.append({"round": k, "wall": wall, "late": max(late, 0.0),
                           "qstat": made["qstat"], "pbs": sum(made.values()),
                           "task_list": delta.get(TASK_LIST, 0),
                           "globus": sum(v for r, v in delta.items()
                                         if r != MONITOR_ROUTE and not r.startswith("POST /_"))})
            if self._released() == self.n or time.monotonic() - t0 > self.timeout:
                return rounds

    def _released(self) -> int:
        with self.service.store.session(write=False) as session:
            return int(session.exec(select(func.count()).select_from(Intent).where(
                Intent.action_type == "qrls", Intent.status == DONE)).one())

    def _summary(self, rounds: list[dict[str, Any]], real: float, pbs: Counter[str],
                 counts: dict[str, int], truth: TaskEnds, monitors: RealMonitors | None
                 ) -> dict[str, Any]:
        n, k = self.n, len(rounds)
        ended = truth.ended()
        model_requests = sum(r + 1 for r in ended)
        watcher_globus = sum(r["globus"] for r in rounds)
        watcher = {
            "rounds": k,
            "pbs_calls_per_round_max": max(r["pbs"] for r in rounds),
            "pbs_poll_calls_per_round": _spread([r["qstat"] for r in rounds]),
            "pbs_calls_total": sum(pbs.values()),
            "pbs_calls_by_command": dict(pbs),
            "globus_task_requests_per_round": _spread([r["task_list"] for r in rounds]),
            "globus_requests_per_round": _spread([r["globus"] for r in rounds]),
            "globus_requests_total": watcher_globus,
            "globus_routes": {r: v for r, v in sorted(counts.items())
                              if r != MONITOR_ROUTE and not r.startswith("POST /_")},
            "batch_slots": 0,
            "released": self._released(),
            "round_wall_seconds": _spread([r["wall"] for r in rounds]),
            "late_rounds": sum(1 for r in rounds if r["late"] > self.period * 0.5),
        }
        model = {
            "basis": "model: monitor i polls get_task every 10 s from the start of the "
                     "stage-in until it sees its task ended: k_i + 1 requests, k_i the first "
                     "round at which the emulator shows it ended; one qsub per monitor job, "
                     "one qrls each",
            "stage_in_rounds": max(ended) + 1,
            "globus_requests_total": model_requests,
            "globus_requests_first_round": n,
            "pbs_calls_total": 2 * n,
            "pbs_calls_per_round_polling": 0,
            "batch_slots": n,
            "slot_seconds_modelled": sum(ended) * MODELLED_ROUND,
        }
        if monitors is not None:
            model["validation"] = {"real_requests": monitors.requests(),
                                   "emulator_counted": counts.get(MONITOR_ROUTE, 0),
                                   "model_requests": model_requests,
                                   "monitors": n}
        return {
            "n": n, "chunk": self.plan.chunk, "ceil_n_over_chunk": math.ceil(n / self.plan.chunk),
            "round_period_real_seconds": self.period,
            "stage_in_real_seconds": real, "stage_in_modelled_seconds": k * MODELLED_ROUND,
            "watcher": watcher, "monitor_jobs": model,
            "globus_ratio": model_requests / watcher_globus if watcher_globus else None,
            "rounds": rounds,
        }


def _spread(values: list[float]) -> dict[str, float]:
    return {"max": max(values), "mean": sum(values) / len(values), "min": min(values)}
