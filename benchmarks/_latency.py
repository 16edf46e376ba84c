"""Part 3, reaction latency: from a change in the simulator to the action it causes, done.

The watcher runs as `watcher run` does (`run_forever`: APScheduler, one poll job per source at
the poll interval with its jitter, actions run as soon as a poll fires a rule). A driver thread
makes the changes 0.382 poll intervals apart: their phases in the poll period then follow a
low-discrepancy (Kronecker) sequence and cover it evenly, so the median is not at the mercy
of a few random draws (with random moments, 40 samples leave it uncertain by ~0.15 s at a
2 s interval). The changes alternate two kinds:

- PBS: `qdel` of a held job `trig-i`; a rule on `state: F` releases its partner job;
- Globus: the emulator fails a watched task; a rule pinned to the task releases a job.

Latency = the intent's `updated_at` (recorded after `qrls` returned) minus the moment of the
change: for PBS the moment `qdel` returned (the job is gone by then), for Globus the moment
before the emulator failed the task. For PBS changes it is split in two, using the start times
of the watcher's qstat calls (logged by the counting wrapper): the wait for the next poll,
and the work from the start of that poll to the action recorded (qstat, diff, rules, qrls).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _measure import distribution
from _world import (
    USER,
    PbsCallLog,
    globus_settings,
    held_jobs,
    log_in,
    submit_tasks,
    use_emulator,
    watcher_settings,
    write_rules,
)
from sqlmodel import select

from watcher.service.scheduler import run_forever
from watcher.service.service import Service
from watcher.sim.globus.testing import GlobusEmulator
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store, open_store
from watcher.store.models import DONE, Intent

PBS_RULE = """  - name: release-partner
    when: {pbs_job: {name: "trig-*", state: F}}
    do: [{qrls: {job: "{{ job.variables.TARGET }}"}}]
"""


STEP = 0.381966  # 2 - golden ratio: i * STEP mod 1 spreads evenly for any number of samples


@dataclass(frozen=True)
class LatencyPlan:
    poll_interval: float
    samples: int  # half PBS changes, half Globus changes


def run_latency(plan: LatencyPlan, tmp: Path) -> dict[str, Any]:
    per_kind = max(1, plan.samples // 2)
    with PbsSim(tmp / "pbs", nodes=1) as sim, GlobusEmulator(tmp / "globus") as emu:
        use_emulator(emu.env)
        (tmp / "src").mkdir()
        (tmp / "src" / "f").write_bytes(b"x" * 1000)
        src, dst = emu.add_endpoint(tmp / "src"), emu.add_endpoint(tmp / "dst")
        emu.set_bandwidth(1e-3)  # the tasks wait: only the injected failure changes them
        tasks = submit_tasks(emu.issue_tokens(USER)["access_token"], src, dst, per_kind, "lat")
        targets = held_jobs(sim, 2 * per_kind, tmp, "target")
        triggers = [sim.qsub("exit 0\n", "-h", "-N", f"trig-{i}", "-v",
                             f"TARGET={targets[i]}", cwd=tmp) for i in range(per_kind)]
        write_rules(tmp / "rules", [PBS_RULE, *(
            f"  - name: task-{i}\n"
            f"    when: {{globus_task: {{task: {task}, status: FAILED}}}}\n"
            f"    do: [{{qrls: {{job: \"{targets[per_kind + i]}\"}}}}]\n"
            for i, task in enumerate(tasks))])
        gs = globus_settings(tmp, emu.native_client_id, chunk=100, endpoint_interval=300.0)
        log_in(gs.token_db, emu.issue_tokens(USER))
        calls = PbsCallLog(tmp / "pbs-counted", sim.bin_dir)
        settings = watcher_settings(tmp, calls.bin_dir, gs, poll_interval=plan.poll_interval)
        store = open_store(settings.store.url)
        try:
            service = Service(settings, store, [tmp / "rules"])
            changes = [change for i in range(per_kind) for change in (
                ("pbs", triggers[i], targets[i]), ("globus", tasks[i], targets[per_kind + i]))]
            driver = _Driver(sim, emu, store, changes, plan)
            samples = asyncio.run(_run(service, driver, plan.poll_interval))
        finally:
            store.close()
        stamped = calls.stamped()
    polls = [at for at, name in stamped if name == "qstat"]
    actions = [at for at, name in stamped if name == "qrls"]
    return _summary(plan, [_split(sample, polls, actions) for sample in samples])


async def _run(service: Service, driver: _Driver, interval: float) -> list[dict[str, Any]]:
    for _ in range(2):  # everything appears, then an idle cycle: the steady state
        await service.cycle()
    watcher = asyncio.create_task(run_forever(service, poll_interval=interval))
    await asyncio.sleep(2 * interval)
    try:
        return await asyncio.to_thread(driver.run)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # run_forever's own stop: running jobs finish
        await watcher


class _Driver:
    """Makes the changes on a fixed schedule (see the module docstring), then waits for the
    reactions."""

    def __init__(self, sim: PbsSim, emu: GlobusEmulator, store: Store,
                 changes: list[tuple[str, str, str]], plan: LatencyPlan) -> None:
        self.sim, self.emu, self.store, self.plan = sim, emu, store, plan
        self.changes = changes
        self.changed_at: dict[str, tuple[str, datetime]] = {}

    def run(self) -> list[dict[str, Any]]:
        start = time.monotonic()
        for i, (kind, subject, target) in enumerate(self.changes):
            delay = start + i * STEP * self.plan.poll_interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.changed_at[target] = (kind, self._change(kind, subject))
        return self._reactions(deadline=time.monotonic() + 20 * self.plan.poll_interval + 30)

    def _change(self, kind: str, subject: str) -> datetime:
        if kind == "globus":
            at = datetime.now(UTC)
            self.emu.fail_task(subject, "PERMISSION_DENIED", "injected by the benchmark")
            return at
        result = self.sim.run("qdel", subject)
        if result.returncode != 0:
            raise RuntimeError(f"qdel {subject}: {result.stderr.strip()}")
        return datetime.now(UTC)

    def _reactions(self, deadline: float) -> list[dict[str, Any]]:
        done: dict[str, datetime] = {}
        while len(done) < len(self.changed_at) and time.monotonic() < deadline:
            with self.store.session(write=False) as session:
                for intent in session.exec(select(Intent).where(Intent.status == DONE)):
                    done.setdefault(str(intent.params.get("job")), intent.updated_at)
            time.sleep(0.05)
        return [{"kind": kind, "target": target, "changed": at.timestamp(),
                 "done": done[target].timestamp() if target in done else None,
                 "latency": (done[target] - at).total_seconds() if target in done else None}
                for target, (kind, at) in self.changed_at.items()]


def _split(sample: dict[str, Any], polls: list[float], actions: list[float]
           ) -> dict[str, Any]:
    """For a PBS change: the poll that acted is the last qstat started before the action was
    recorded (actions run within the poll that fired them), the action the last qrls started
    before it was recorded."""
    if sample["kind"] != "pbs" or sample["done"] is None:
        return sample
    done = sample["done"]
    started = max((at for at in polls if at <= done), default=None)
    acted = max((at for at in actions if at <= done), default=None)
    if started is None or acted is None or acted < started:
        return sample
    return {**sample, "work": done - started, "wait": max(started - sample["changed"], 0.0),
            "detect": acted - started, "act": done - acted}


def _summary(plan: LatencyPlan, samples: list[dict[str, Any]]) -> dict[str, Any]:
    def of(kind: str | None) -> list[float]:
        return [s["latency"] for s in samples
                if s["latency"] is not None and kind in (None, s["kind"])]

    def part(name: str) -> list[float]:
        return [s[name] for s in samples if name in s]

    target = plan.poll_interval / 2 + 0.2
    return {"plan": asdict(plan), "target_median_seconds": target,
            "all": distribution(of(None)), "pbs": distribution(of("pbs")),
            "globus": distribution(of("globus")),
            "pbs_wait_for_poll": distribution(part("wait")),
            "pbs_work_poll_to_action": distribution(part("work")),
            "pbs_work_poll_to_qrls_start": distribution(part("detect")),
            "pbs_work_qrls_to_recorded": distribution(part("act")),
            "missed": sum(1 for s in samples if s["latency"] is None),
            "samples": samples}
