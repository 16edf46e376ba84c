"""Part 5, graph workflows in flight (issue 17): N six-step graph workflows, nothing moving.

Each workflow is the README's graph, cut to six steps: two input transfers from two
endpoints, a prep job after both, a sweep job after prep, two output transfers after the
sweep. The world is the moment the inputs move: both input tasks ACTIVE in the Globus emulator
(labelled `watcher <wf> <step>` and watched, as `GraphRunner` starts them), both jobs held in
the PBS simulator with the WATCHER_WORKFLOW / WATCHER_STEP / WATCHER_INTENT variables a
graph step's qsub gives them, the outputs pending. The records are made with
`record.create` from the parsed workflow file and the jobs are copies inserted through
the simulator's store (as `_world.held_jobs` does; N real submissions would take most of an
hour of simulated qsub), dated an hour back, as if the inputs had been moving that long.
What is measured is the watcher's own cycle, `Service.cycle()`: poll (PBS with the default
discovery, Globus in chunks) -> observe -> the workflow tracker -> the
rules (the shipped staging rules included) -> actions -> record, with every SQL statement,
PBS call and Globus request counted. Warm-up cycles first (the first sees every job and task
appear), then `idle_cycles` idle ones; with `profile`, one more under cProfile (its top
functions by cumulative time go in the result).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import math
import pstats
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import _stages
import globus_sdk
from _measure import (
    StageClock,
    StatementCounter,
    measured_cycle,
)
from _world import (
    USER,
    PbsCallLog,
    globus_daemon,
    globus_settings,
    log_in,
    transfer_client,
    watcher_settings,
)
from sqlmodel import select

from watcher.events import GLOBUS_TASK
from watcher.pbs.lineage import INTENT
from watcher.service.service import Service
from watcher.sim.globus.admin_client import AdminClient
from watcher.sim.globus.emulator import NATIVE_CLIENT_ID
from watcher.sim.pbs import model, store
from watcher.sim.pbs.testing import PbsSim
from watcher.sources.globus import GlobusSource
from watcher.store.db import open_store
from watcher.store.models import Workflow
from watcher.store.watch import watch
from watcher.workflows import record
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph_track import label
from watcher.workflows.jobs import STEP_VAR, WORKFLOW_VAR, submission_tag
from watcher.workflows.specfile import load_workflow_text

TASK_LIST = "GET /v0.10/task_list"
INPUTS = ("inputs-a", "inputs-b")
JOBS = ("prep", "sweep")
STEPS = 6
# The jobs were submitted (and last saved by the server) this long ago: the inputs have been
# moving for an hour. Copies saved just now would fall inside the qselect source's mtime
# margin (`pbs.clock_skew_margin`, 120 s) and be read again every cycle for two minutes.
SUBMITTED_AGO = 3600


@dataclass(frozen=True)
class GraphPlan:
    """`chunk` is the Globus source's (its default, 100, in the full run)."""

    workflows: int
    chunk: int
    idle_cycles: int
    warmup_cycles: int = 2
    discovery: Literal["select", "listing"] = "select"  # the watcher's default
    profile: bool = False


def workflow_text(ep: dict[str, str]) -> str:
    """The six-step graph every benchmark workflow is (a user's file, parsed as one)."""
    return f"""\
name: bench
steps:
  inputs-a: {{transfer: {{from: "{ep['a']}:/~/a/", to: "{ep['scratch']}:/~/a/"}}}}
  inputs-b: {{transfer: {{from: "{ep['b']}:/~/b/", to: "{ep['scratch']}:/~/b/"}}, retries: 2}}
  prep:     {{job: prep.sh, qsub: [-l, walltime=00:20:00], after: [inputs-a, inputs-b]}}
  sweep:    {{job: sweep.sh, after: [prep], retries: {{walltime: 1}}}}
  archive:  {{transfer: {{from: "{ep['scratch']}:/~/out/", to: "{ep['archive']}:/~/run/"}},
              after: [sweep]}}
  share:    {{transfer: {{from: "{ep['scratch']}:/~/out/plots/", to: "{ep['a']}:/~/shared/"}},
              after: [sweep]}}
"""


def run_graphs(plan: GraphPlan, tmp: Path) -> dict[str, Any]:
    """Build the world in `tmp`, run the measured cycles, return the figures (JSON-ready)."""
    with PbsSim(tmp / "pbs", nodes=1) as sim, globus_daemon(tmp / "globus") as admin:
        started = time.perf_counter()
        calls = PbsCallLog(tmp / "pbs-counted", sim.bin_dir)
        ep = _endpoints(admin, tmp)
        workdir = tmp / "wf"
        workdir.mkdir()
        for script in ("prep.sh", "sweep.sh"):
            (workdir / script).write_text("#!/bin/sh\nexit 0\n")
        spec = load_workflow_text(workflow_text(ep), workdir / "bench.yaml")
        assert isinstance(spec, GraphSpec)
        gs = globus_settings(tmp, NATIVE_CLIENT_ID, chunk=plan.chunk, endpoint_interval=300.0)
        issued = admin.issue_tokens(USER)
        log_in(gs.token_db, issued)
        settings = watcher_settings(tmp, calls.bin_dir, gs, discovery=plan.discovery)
        (tmp / "rules").mkdir()
        db = open_store(settings.store.url)
        try:
            world = _seed(db, sim, spec, plan.workflows, workdir, ep, issued["access_token"])
            world["setup_seconds"] = time.perf_counter() - started
            service = Service(settings, db, [tmp / "rules"])
            result = asyncio.run(_Measure(service, calls, admin, plan).run())
            result["world"] = {**world, **_in_store(db)}
        finally:
            db.close()
    result["plan"] = asdict(plan)
    return result


def _endpoints(admin: AdminClient, tmp: Path) -> dict[str, str]:
    """Four endpoints: two input facilities, the scratch the jobs see, an archive."""
    found = {}
    for name in ("a", "b", "scratch", "archive"):
        root = tmp / "endpoints" / name
        (root / name).mkdir(parents=True)
        (root / name / "f").write_bytes(b"x" * 1000)
        found[name] = admin.add_endpoint(str(root), display_name=f"bench-{name}")
    return found


def _seed(db: Any, sim: PbsSim, spec: GraphSpec, n: int, workdir: Path, ep: dict[str, str],
          token: str) -> dict[str, Any]:
    """N workflows as `GraphRunner` leaves them once its first run is done: inputs ACTIVE and
    watched, both jobs submitted held, the outputs pending."""
    now = datetime.now(UTC)
    with db.session() as session:
        ids = [record.create(session, spec, str(workdir), now).id for _ in range(n)]
    tasks = _start_inputs(token, ep, ids)
    jobs = _held_step_jobs(sim, workdir, ids)
    with db.session() as session:
        for wf_id in ids:
            wf = session.get(Workflow, wf_id)
            assert wf is not None
            for step in INPUTS:
                task = tasks[(wf_id, step)]
                record.note(session, wf, "steps", step, status="active", attempt=1,
                            tasks=[task], started_at=now.isoformat())
                watch(session, "globus", task, workflow=wf_id, step=step)
                record.log(session, wf, now, step, f"started: Globus task {task}")
            for step in JOBS:
                job = jobs[(wf_id, step)]
                record.note(session, wf, "steps", step, status="held", n=1, jobs=[job])
                record.log(session, wf, now, step, f"submitted as {job} (held)")
            record.set_state(session, wf, "running", now)
    return {"workflows": n, "steps_per_workflow": STEPS, "watched_tasks": len(tasks),
            "jobs": len(jobs)}


def _start_inputs(token: str, ep: dict[str, str], ids: list[str]) -> dict[tuple[str, str], str]:
    """Both input transfers of every workflow, as `GraphRunner._start` makes them (label,
    items, checksums), four at a time, one client per thread (setup only, for speed)."""
    local = threading.local()
    wanted = [(wf_id, step) for wf_id in ids for step in INPUTS]

    def start(key: tuple[str, str]) -> str:
        wf_id, step = key
        if not hasattr(local, "client"):
            local.client = transfer_client(token)
        side = "a" if step == "inputs-a" else "b"
        data = globus_sdk.TransferData(ep[side], ep["scratch"], label=label(wf_id, step),
                                       submission_id=str(uuid.uuid4()), verify_checksum=True,
                                       notify_on_succeeded=False, notify_on_failed=False,
                                       notify_on_inactive=False)
        data.add_item(f"/~/{side}/", f"/~/{wf_id}/{side}/", recursive=True)
        return str(local.client.submit_transfer(data)["task_id"])

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(wanted, pool.map(start, wanted), strict=True))


def _held_step_jobs(sim: PbsSim, workdir: Path, ids: list[str]) -> dict[tuple[str, str], str]:
    """prep and sweep of every workflow: one real held qsub as the template (held behind a
    job that never runs, so a qrls starts nothing), then copies with each step's variables."""
    blocker = sim.qsub("exit 0\n", "-h", "-N", "blocker", cwd=workdir)
    first = sim.qsub("exit 0\n", "-h", "-N", "bench-prep", "-W", f"depend=afterok:{blocker}",
                     cwd=workdir)
    conn = store.connect(sim.paths.db)
    found: dict[tuple[str, str], str] = {}
    old = int(time.time()) - SUBMITTED_AGO
    try:
        template = model.load(conn, int(first.partition(".")[0]))
        assert template is not None
        for attr in ("ctime", "qtime", "etime"):
            template.attrs[attr] = old
        base = [(k, v) for k, v in template.attrs["Variable_List"]
                if k not in (WORKFLOW_VAR, STEP_VAR, INTENT)]
        with store.transaction(conn):
            for wf_id in ids:
                for step in JOBS:
                    template.seq = store.next_seq(conn)
                    template.attrs["Job_Name"] = f"bench-{step}"
                    template.attrs["Variable_List"] = [
                        *base, (WORKFLOW_VAR, wf_id), (STEP_VAR, step),
                        (INTENT, submission_tag(wf_id, step, 1))]
                    model.insert(conn, template, mtime=old)
                    found[(wf_id, step)] = template.jobid
            for seq in (blocker, first):  # the two real submissions look as old
                _age(conn, int(seq.partition(".")[0]), old)
    finally:
        conn.close()
    return found


def _age(conn: Any, seq: int, at: int) -> None:
    job = model.load(conn, seq)
    assert job is not None
    job.attrs.update(ctime=at, qtime=at, etime=at, mtime=at)
    conn.execute("UPDATE jobs SET attrs=? WHERE seq=?", (json.dumps(job.attrs), seq))


def _in_store(db: Any) -> dict[str, Any]:
    with db.session(write=False) as session:
        states = session.exec(select(Workflow.step)).all()
    return {"workflow_states": dict(Counter(states))}


class _Measure:
    """Warm-up cycles, then idle ones, each one real `Service.cycle()`, everything counted."""

    def __init__(self, service: Service, calls: PbsCallLog, admin: AdminClient,
                 plan: GraphPlan) -> None:
        self.service, self.calls, self.admin, self.plan = service, calls, admin, plan
        self.statements = StatementCounter(service.store.engine)

    async def run(self) -> dict[str, Any]:
        warm = [await self._cycle() for _ in range(self.plan.warmup_cycles)]
        idle = [await self._cycle() for _ in range(self.plan.idle_cycles)]
        out: dict[str, Any] = {"warmup": warm, "idle": idle, "idle_summary": _summary(idle)}
        if self.plan.profile:
            out["profile"] = await self._profiled()
        return out

    async def _cycle(self) -> dict[str, Any]:
        """One real `Service.cycle()`, every statement, PBS call and Globus request counted."""
        return await measured_cycle(self.service.cycle, self.statements, self.calls.calls,
                                    self._globus_counts)

    async def _profiled(self) -> dict[str, Any]:
        """Where an idle cycle's CPU goes. cProfile sees one thread, and the Globus poll runs
        in a worker thread (`asyncio.to_thread`), so: the whole cycle profiled (the main
        thread: PBS, scheduling), then the Globus half alone on this thread, the calls
        `_stages` makes, split by stage and profiled."""
        cycle = await _profile(self.service.cycle)
        source = next(s for s in self.service.sources if isinstance(s, GlobusSource))
        settings = self.service.settings
        committer = _stages.Committer(self.service.store, source.name, GLOBUS_TASK,
                                      self.service.engine, settings.globus.down_after)
        clients = self.service.globus.clients  # type: ignore[union-attr]
        clock = StageClock()
        events: list[int] = []

        async def globus_half() -> None:
            events.append(committer.commit(_stages.poll_globus(source, clients, clock), clock))

        await globus_half()  # unprofiled: the stage split at its real cost
        split = dict(clock.cpu)
        clock = StageClock()
        globus = await _profile(globus_half)
        return {"cycle_main_thread": cycle, "globus_alone": globus,
                "globus_stage_cpu": split, "globus_stage_cpu_profiled": dict(clock.cpu),
                "globus_events": events}

    def _globus_counts(self) -> dict[str, int]:
        return {r: v for r, v in self.admin.counters().items() if "/_emulator" not in r}


async def _profile(work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Await `work` under cProfile (CPU clock): its CPU, its top functions by own time and
    by cumulative time."""
    profiler = cProfile.Profile(time.process_time)
    cpu = time.process_time()
    profiler.enable()
    try:
        await work()
    finally:
        profiler.disable()
    cpu = time.process_time() - cpu
    tables = {}
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(20)
        tables[order] = text.getvalue()
    return {"cpu": cpu, "top_tottime": tables["tottime"], "top_cumulative": tables["cumulative"]}


def _summary(idle: list[dict[str, Any]]) -> dict[str, Any]:
    task_lists = [c["globus_requests"].get(TASK_LIST, 0) for c in idle]
    return {"cycles": len(idle),
            "cpu_median": statistics.median(c["cpu"] for c in idle),
            "cpu_max": max(c["cpu"] for c in idle),
            "wall_median": statistics.median(c["wall"] for c in idle),
            "task_list_max": max(task_lists), "task_list_min": min(task_lists),
            "globus_requests_max": max(sum(c["globus_requests"].values()) for c in idle),
            "pbs_calls": idle[-1]["pbs_calls"],
            "store_writes": max(c["store"]["writes"] for c in idle),
            "store": idle[-1]["store"],
            "peak_rss_mb": max(c["peak_rss_mb"] for c in idle)}


def ceil_target(watched: int, chunk: int) -> int:
    """The Globus target: one task_list request per chunk of watched tasks."""
    return math.ceil(watched / chunk)
