"""Part 4, PBS at facility scale (issue 13): the full listing and qselect, side by side.

A PBS simulator holds `jobs` jobs (history included) of `users` users; the watching user owns
`active` held jobs and `finished` finished ones, the rest belong to the others (copies made
through the simulator's store, last modified two days ago, as a two-week history is). The
same watcher is run twice on that one server, each time in a fresh Python process so its CPU
and peak memory are its own: once with `pbs.discovery: listing` (today's `qstat -f -F json -x`
of every job) and once with `pbs.discovery: select` (qselect, then qstat of the changed ids).

Per cycle: PBS calls, bytes the PBS commands printed (stdout + stderr), job records the server
serialised (the simulator's request log), the watcher's CPU (this process only: the commands
are children). Then `changes` of the user's held jobs are released, one at a time at a random
moment of the poll interval; a rule fires on each (it enters Q, R, E or F); the reaction latency is
release → firing committed. Across the run: no vanished event and no missed change.

    python benchmarks/_pbs_facility.py MODE HOME PLAN_JSON RESULT_JSON   (internal)
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _measure import distribution, peak_rss_mb
from sqlmodel import select

from watcher.config import PbsSettings, Settings, StoreSettings
from watcher.engine.decide import Verdict
from watcher.events import VANISHED
from watcher.pbs.commands import CommandResult, PbsCommands
from watcher.service.service import Service
from watcher.sim.pbs import requests
from watcher.sim.pbs.context import current_user
from watcher.sim.pbs.paths import SimPaths
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import open_store
from watcher.store.models import EventRecord, Firing

MODES = ("listing", "select")
RULE = """\
rules:
  - name: left-hold
    when: {pbs_job: {owner: me, name: "mine-active-*", state: [Q, R, E, F]}}
    do: [{qhold: {job: "{{ job.id }}"}}]
"""


@dataclass(frozen=True)
class PbsFacilityPlan:
    jobs: int
    users: int
    active: int
    finished: int
    idle_cycles: int
    changes: int
    poll_interval: float


class Meter(PbsCommands):
    """The simulator's shims; each call's command and printed bytes are kept (a meter)."""

    def __init__(self, bin_dir: Path, timeout: float) -> None:
        super().__init__(bin_dir=bin_dir, timeout=timeout)
        object.__setattr__(self, "calls", [])

    async def run(self, command: str, *args: str, **kw: Any) -> CommandResult:
        result = await super().run(command, *args, **kw)
        printed = len(result.stdout.encode()) + len(result.stderr.encode())
        self.calls.append((command, printed))  # type: ignore[attr-defined]
        return result


def run_pbs_facility(plan: PbsFacilityPlan, tmp: Path) -> dict[str, Any]:
    with PbsSim(tmp / "pbs", nodes=1) as sim:
        world = populate(sim, plan, tmp)
        sim.configure(count_requests=True)
        modes = {}
        for index, mode in enumerate(MODES):  # each its own jobs to release
            out = tmp / f"{mode}.json"
            jobs = world["active_ids"][index * plan.changes:(index + 1) * plan.changes]
            subprocess.run([sys.executable, __file__, mode, str(sim.home),
                            json.dumps(asdict(plan)), str(out), *jobs],
                           check=True, cwd=Path(__file__).resolve().parent)
            modes[mode] = json.loads(out.read_text())
            for job in jobs:  # ended (the rule may have held it again): a quiet server next
                sim.run("qdel", job)
                sim.wait_for(job, timeout=120)
    return {"plan": asdict(plan), "world": {k: v for k, v in world.items()
                                            if k != "active_ids"}, **modes}


def populate(sim: PbsSim, plan: PbsFacilityPlan, tmp: Path) -> dict[str, Any]:
    """The user's `active` held and `finished` jobs, and the other users' share of the rest
    (a fifth of them held, the others history)."""
    started = time.perf_counter()
    finished = sim.qsub("exit 0\n", "-N", "template-finished", cwd=tmp)
    sim.wait_for(finished)
    held = sim.qsub("exit 0\n", "-h", "-N", "template-held", cwd=tmp)
    old = time.time() - 2 * 86_400
    me = current_user()
    active = sim.copy_jobs(held, [me] * plan.active, name="mine-active", mtime=old)
    sim.copy_jobs(finished, [me] * plan.finished, name="mine-done", mtime=old)
    others = [f"user{i:03d}" for i in range(1, plan.users)]
    rest = plan.jobs - plan.active - plan.finished - 2
    owners = [others[i % len(others)] for i in range(rest)]
    sim.copy_jobs(held, owners[: rest // 5], name="other-held", mtime=old)
    sim.copy_jobs(finished, owners[rest // 5:], name="other-done", mtime=old)
    sim.run("qdel", held)
    return {"jobs": plan.jobs, "users": plan.users, "watching_user": me,
            "user_jobs": plan.active + plan.finished + 2, "active_ids": active,
            "populate_seconds": round(time.perf_counter() - started, 1)}


def measure_mode(mode: str, home: Path, plan: PbsFacilityPlan, active: list[str],
                 tmp: Path) -> dict[str, Any]:
    paths = SimPaths(home)
    meter = Meter(paths.bin_dir, timeout=1800)  # the listing of 50,000 jobs takes a minute
    rules = tmp / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(RULE)
    settings = Settings(pbs=PbsSettings(bin_dir=paths.bin_dir, discovery=mode,
                                        poll_interval=plan.poll_interval, min_poll_interval=0,
                                        clock_skew_margin=plan.poll_interval, full_every=10**6),
                        store=StoreSettings(url=f"sqlite:///{tmp / 'watcher.db'}"))
    store = open_store(settings.store.url)
    service = Service(settings, store, [rules])
    service.runner.pbs = meter
    service.sources[0].commands = meter  # type: ignore[attr-defined]
    try:
        first = _cycle(service, meter, paths)
        time.sleep(plan.poll_interval)  # the qselect window moves past the first read
        _cycle(service, meter, paths)
        idle = [_cycle(service, meter, paths) for _ in range(plan.idle_cycles)]
        slowest = max(c["wall"] for c in idle)  # a listing cycle can outlast the interval
        reactions = asyncio.run(_react(service, meter, plan, active, slowest))
        with store.session(write=False) as session:
            vanished = len(session.exec(select(EventRecord).where(
                EventRecord.change == VANISHED)).all())
            fired = {str(f.subject) for f in session.exec(select(Firing)).all()}
    finally:
        store.close()
    missed = [job for job in active if job not in fired]
    return {"mode": mode, "first_cycle": first, "idle": _summary(idle),
            "reaction_seconds": distribution([r for r in reactions if r is not None]),
            "changes": plan.changes, "missed_changes": len(missed), "vanished": vanished,
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def _cycle(service: Service, meter: Meter, paths: SimPaths) -> dict[str, Any]:
    calls, logged = len(meter.calls), len(requests.read(paths))
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(service.poll(service.sources[0]))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    made = meter.calls[calls:]
    served = requests.read(paths)[logged:]
    return {"pbs_calls": len(made), "commands": sorted(c for c, _ in made),
            "bytes": sum(b for _, b in made),
            "records": sum(r["records"] for r in served),
            "ids": sum(r["ids"] for r in served), "cpu": cpu, "wall": wall}


def _summary(cycles: list[dict[str, Any]]) -> dict[str, Any]:
    def worst(key: str) -> Any:
        return max(c[key] for c in cycles)

    return {"cycles": len(cycles), "pbs_calls_max": worst("pbs_calls"),
            "commands": cycles[-1]["commands"], "bytes_max": worst("bytes"),
            "records_max": worst("records"), "ids_max": worst("ids"),
            "cpu_median": distribution([c["cpu"] for c in cycles])["median"],
            "wall_median": distribution([c["wall"] for c in cycles])["median"]}


async def _react(service: Service, meter: Meter, plan: PbsFacilityPlan, jobs: list[str],
                 cycle: float) -> list[float | None]:
    """Poll every `poll_interval`; release each job at a random moment between two polls;
    the reaction is release → the cycle that committed its firing ended."""
    rng = random.Random(13)
    pending: dict[str, float] = {}
    reactions: list[float | None] = []
    todo = list(jobs)
    loop_end = time.monotonic() + max(plan.poll_interval, cycle) * (3 * len(jobs) + 4) + 30
    next_poll = time.monotonic()
    release_at = next_poll + rng.uniform(0, plan.poll_interval)
    while (todo or pending) and time.monotonic() < loop_end:
        now = time.monotonic()
        if todo and now >= release_at:
            job = todo.pop(0)
            done = await meter.run("qrls", job)
            assert done.returncode == 0, done.describe()
            pending[job] = time.monotonic()
            release_at = next_poll + plan.poll_interval * (1 + rng.random())
        if now >= next_poll:
            reports = await service.poll(service.sources[0])
            ended = time.monotonic()
            for report in reports:
                if report.verdict is Verdict.FIRE and report.subject in pending:
                    reactions.append(ended - pending.pop(report.subject))
            next_poll += plan.poll_interval
        await asyncio.sleep(max(0.0, min(next_poll, release_at if todo else next_poll)
                                - time.monotonic()))
    reactions += [None] * len(pending)
    return reactions


def main(argv: list[str]) -> int:
    mode, home, plan_json, out, *active = argv
    plan = PbsFacilityPlan(**json.loads(plan_json))
    with tempfile.TemporaryDirectory(prefix=f"pbs-facility-{mode}-") as tmp:
        result = measure_mode(mode, Path(home), plan, active, Path(tmp))
    result["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
