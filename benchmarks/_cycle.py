"""Part 2, cycle cost: 10,000 jobs, 10,000 watched tasks, 1,000 rules, nothing changing.

The PBS simulator holds the jobs (half finished, half held, inserted as `pbs_qstat.py` does);
the Globus emulator runs as its own process (`watcher.sim.globus.daemon`), so its CPU and
memory are not counted as the watcher's; its tasks are all ACTIVE and do not move. After two
warm-up cycles (the first sees everything appear), idle cycles are run stage by stage
(`_stages`) with CPU time per stage, next to a bare `json.loads` of the same qstat answer;
then one real `Service.cycle()` with every SQL statement counted.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _stages
from _diagnostics import qstat_read_cost, watched_ids_cost
from _measure import (
    StageClock,
    StatementCounter,
    children_cpu,
    current_rss_mb,
    measured_cycle,
)
from _rulegen import facility_rules
from _world import (
    USER,
    PbsCallLog,
    globus_daemon,
    globus_settings,
    held_jobs,
    submit_tasks,
    watching_service,
    write_rules,
)
from pbs_qstat import fill

from watcher.events import GLOBUS_TASK, PBS_JOB
from watcher.service.service import Service
from watcher.sim.globus.admin_client import AdminClient
from watcher.sim.globus.emulator import NATIVE_CLIENT_ID
from watcher.sim.pbs.testing import PbsSim
from watcher.sources.base import Observation
from watcher.sources.globus import GlobusSource
from watcher.sources.pbs import PbsSource

STAGES = ("poll", "parse", "diff", "match", "record")


@dataclass(frozen=True)
class CyclePlan:
    jobs: int
    tasks: int
    rules: int
    chunk: int
    idle_cycles: int
    burst: int  # new jobs appearing at once, for the cost of an event with every rule


def run_cycle_cost(plan: CyclePlan, tmp: Path) -> dict[str, Any]:
    baseline = current_rss_mb()
    with PbsSim(tmp / "pbs", nodes=1) as sim, globus_daemon(tmp / "globus") as admin:
        started = time.perf_counter()
        fill(sim, plan.jobs - 2, tmp)  # plus its two templates
        jobs = sorted(sim.qstat_json()["Jobs"])
        calls = PbsCallLog(tmp / "pbs-counted", sim.bin_dir)
        (tmp / "src").mkdir()
        (tmp / "src" / "f").write_bytes(b"x" * 1000)
        src = admin.add_endpoint(str(tmp / "src"), display_name="source")
        dst = admin.add_endpoint(str(tmp / "dst"), display_name="destination")
        tasks = submit_tasks(admin.issue_tokens(USER)["access_token"], src, dst, plan.tasks,
                             "task")
        gs = globus_settings(tmp, NATIVE_CLIENT_ID, chunk=plan.chunk, endpoint_interval=300.0)
        (tmp / "rules").mkdir()
        with watching_service(tmp, calls.bin_dir, gs, admin.issue_tokens(USER), tasks,
                              tmp / "rules") as service:
            world = _World(sim, tmp, jobs, tasks, time.perf_counter() - started)
            result = asyncio.run(_Measure(service, calls, admin, plan, world).run())
    result["plan"] = asdict(plan)
    result["memory"]["baseline_after_imports_mb"] = baseline
    return result


@dataclass
class _World:
    sim: PbsSim
    tmp: Path
    jobs: list[str]
    tasks: list[str]
    setup_seconds: float


class _Measure:
    """The sequence of measured cycles on one world (see the module docstring)."""

    def __init__(self, service: Service, calls: PbsCallLog, admin: AdminClient,
                 plan: CyclePlan, world: _World) -> None:
        self.service, self.calls, self.admin, self.plan, self.world = (
            service, calls, admin, plan, world)
        self.pbs = next(s for s in service.sources if isinstance(s, PbsSource))
        self.tasks = next(s for s in service.sources if isinstance(s, GlobusSource))
        assert service.globus is not None, "Globus did not join the service (no tokens?)"
        self.statements = StatementCounter(service.store.engine)
        self.seen: dict[str, Observation] = {}  # the last staged cycle's observations

    async def run(self) -> dict[str, Any]:
        shipped = len(self.service.rulebook.rules)
        # The first cycle sees 20,000 subjects appear. It runs before the 1,000 rules are
        # installed: with them it takes minutes (see `burst`, which measures that cost).
        first = await self._service_cycle()
        write_rules(self.world.tmp / "rules",
                    facility_rules(self.plan.rules, self.world.jobs, self.world.tasks))
        second = await self._service_cycle()  # reloads the rules; nothing changed
        idle_service = await self._service_cycle()
        memory = {"peak_first_cycle_mb": first["peak_rss_mb"],
                  "peak_idle_service_cycle_mb": idle_service["peak_rss_mb"],
                  "rss_before_idle_cycle_mb": idle_service["rss_before_mb"]}
        gc.collect()
        before = current_rss_mb()
        committers = self._committers()  # a second copy of both sources' memories
        gc.collect()
        memory["source_memories_mb"] = current_rss_mb() - before
        idle = [await self._staged_cycle(committers) for _ in range(self.plan.idle_cycles)]
        equivalence = await self._equivalence()
        held_jobs(self.world.sim, self.plan.burst, self.world.tmp, "burst")
        burst = await self._staged_cycle(committers, globus=False)
        return {
            "world": {"jobs": len(self.world.jobs), "tasks": len(self.world.tasks),
                      "rules_generated": self.plan.rules, "rules_shipped": shipped,
                      "rules_in_force": len(self.service.rulebook.rules),
                      "qstat_bytes": idle[-1]["qstat_bytes"],
                      "setup_seconds": self.world.setup_seconds},
            "first_cycle": first, "second_cycle": second, "idle_service_cycle": idle_service,
            "equivalence": equivalence, "idle_staged": _summarise(idle),
            "burst": _burst(burst), "memory": memory,
            "diagnostics": {**await qstat_read_cost(self.pbs),
                            **watched_ids_cost(self.tasks, self.service.store)},
        }

    async def _service_cycle(self) -> dict[str, Any]:
        """One real `Service.cycle()`, every statement, PBS call and Globus request counted."""
        return await measured_cycle(self.service.cycle, self.statements, self.calls.calls,
                                    self._globus_counts)

    async def _equivalence(self) -> dict[str, Any]:
        """The last staged cycle's observations against the sources' own `poll()` (idle
        world: both must see the same subjects with the same attributes)."""
        return {"pbs": _stages.check_equivalent(self.seen["pbs"], await self.pbs.poll()),
                "globus": _stages.check_equivalent(self.seen["globus"],
                                                   await self.tasks.poll())}

    def _committers(self) -> dict[str, _stages.Committer]:
        settings, engine, store = self.service.settings, self.service.engine, self.service.store
        return {"pbs": _stages.Committer(store, self.pbs.name, PBS_JOB, engine,
                                         settings.pbs.down_after),
                "globus": _stages.Committer(store, self.tasks.name, GLOBUS_TASK, engine,
                                            settings.globus.down_after)}

    async def _staged_cycle(self, committers: dict[str, _stages.Committer], *,
                            globus: bool = True) -> dict[str, Any]:
        self.statements.reset()
        pbs, tasks = StageClock(), StageClock()
        child = children_cpu()
        obs, result = await _stages.poll_pbs(self.pbs, pbs)
        child = children_cpu() - child
        self.seen["pbs"] = obs
        events = committers["pbs"].commit(obs, pbs)
        yardstick = time.process_time()
        json.loads(result.stdout)
        yardstick = time.process_time() - yardstick
        if globus:
            clients = self.service.globus.clients  # type: ignore[union-attr]
            obs = self.seen["globus"] = _stages.poll_globus(self.tasks, clients, tasks)
            events += committers["globus"].commit(obs, tasks)
        return {"pbs": dict(pbs.cpu), "pbs_wall": dict(pbs.wall), "globus": dict(tasks.cpu),
                "globus_wall": dict(tasks.wall), "json_loads": yardstick,
                "qstat_child_cpu": child, "events": events,
                "store": self.statements.snapshot(), "qstat_bytes": len(result.stdout)}

    def _globus_counts(self) -> dict[str, int]:
        return {r: v for r, v in self.admin.counters().items() if "/_emulator" not in r}


def _burst(cycle: dict[str, Any]) -> dict[str, Any]:
    events = cycle["events"]
    return {"events": events, "pbs_cpu": cycle["pbs"],
            "match_cpu_per_event": cycle["pbs"].get("match", 0.0) / max(events, 1),
            "store": cycle["store"]}


def _summarise(cycles: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str, stage: str) -> float:
        return statistics.median(c[key].get(stage, 0.0) for c in cycles)

    pbs = {stage: med("pbs", stage) for stage in STAGES}
    globus = {stage: med("globus", stage) for stage in STAGES}
    loads = statistics.median(c["json_loads"] for c in cycles)
    pbs_total, globus_total = sum(pbs.values()), sum(globus.values())
    return {
        "cycles": len(cycles),
        "pbs_cpu": pbs, "pbs_cpu_total": pbs_total,
        "pbs_wall": {stage: med("pbs_wall", stage) for stage in STAGES},
        "globus_cpu": globus, "globus_cpu_total": globus_total,
        "globus_wall": {stage: med("globus_wall", stage) for stage in STAGES},
        "json_loads_cpu": loads,
        "pbs_ratio_to_json_loads": pbs_total / loads,
        "cycle_ratio_to_json_loads": (pbs_total + globus_total) / loads,
        "qstat_child_cpu": statistics.median(c["qstat_child_cpu"] for c in cycles),
        "events": max(c["events"] for c in cycles),
        "store_writes": max(c["store"]["writes"] for c in cycles),
        "store": cycles[-1]["store"],
    }
