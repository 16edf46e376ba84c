"""What watcher costs a facility: polling economy, cycle cost, reaction latency.

    python benchmarks/facility.py [--quick] [--out benchmarks/results/facility.json]

Runs against the PBS simulator and the Globus emulator (nothing else is needed) and prints
three tables and the targets of issue 8, met or not; the same figures go to `--out` as JSON.
Each part runs in a fresh Python process, so its CPU time and peak memory are its own.
The full run takes about five minutes on two cores; `--quick` is a small world in seconds,
for the smoke test: its counts mean something, its times do not.

1. Polling economy (`_economy.py`): N = 10, 100, 1000 staged workflows through one stage-in;
   PBS calls, Globus requests and batch slots, next to one monitor job per workflow.
2. Cycle cost (`_cycle.py`): 10,000 jobs, 10,000 watched tasks, 1,000 rules; CPU per stage
   of an idle cycle against a bare `json.loads` of the same qstat answer; store writes of an
   idle cycle; resident memory.
3. Reaction latency (`_latency.py`): change in the simulator → action done, at a poll interval.
4. PBS at facility scale (`_pbs_facility.py`, issue 13): 50,000 jobs of 200 users; the full
   listing and the qselect source side by side: calls, bytes, records, CPU, memory, reaction.
5. Graph workflows in flight (`_graphs.py`, issue 17): 1,000 six-step graph workflows, inputs
   moving, jobs held; Globus requests, CPU and store writes of an idle `Service.cycle()`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _cycle import CyclePlan, run_cycle_cost
from _economy import EconomyPlan, run_economy
from _graphs import GraphPlan, run_graphs
from _latency import LatencyPlan, run_latency
from _pbs_facility import PbsFacilityPlan, run_pbs_facility
from _report import print_report, targets

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "facility.json"

PLANS: dict[str, dict[str, Any]] = {
    "full": {
        "economy": EconomyPlan(ns=(10, 100, 1000), chunk=100, rounds=20, base_period=0.3,
                               period_per_workflow=0.004, validate_upto=10,
                               default_ns=(100,)),
        # chunk 1000: the emulator answers a task_list in time proportional to all of the
        # user's tasks (~0.7 s at 10,000), so 100 requests a poll would take minutes
        "cycle": CyclePlan(jobs=10_000, tasks=10_000, rules=1000, chunk=1000, idle_cycles=2,
                           burst=200),
        "latency": LatencyPlan(poll_interval=2.0, samples=60),
        "pbs": PbsFacilityPlan(jobs=50_000, users=200, active=20, finished=200, idle_cycles=3,
                               changes=2, poll_interval=2.0),
        "graphs": GraphPlan(workflows=1000, chunk=100, idle_cycles=5, profile=True),
    },
    "quick": {
        "economy": EconomyPlan(ns=(3, 12), chunk=5, rounds=6, base_period=0.25,
                               period_per_workflow=0.004, validate_upto=12,
                               default_ns=(12,), default_every=3),
        "cycle": CyclePlan(jobs=300, tasks=200, rules=100, chunk=50, idle_cycles=2, burst=20),
        "latency": LatencyPlan(poll_interval=0.5, samples=6),
        "pbs": PbsFacilityPlan(jobs=1_000, users=20, active=5, finished=20, idle_cycles=2,
                               changes=2, poll_interval=1.0),
        "graphs": GraphPlan(workflows=20, chunk=8, idle_cycles=2, profile=True),
    },
}
RUNNERS = {"economy": (EconomyPlan, run_economy), "cycle": (CyclePlan, run_cycle_cost),
           "latency": (LatencyPlan, run_latency), "pbs": (PbsFacilityPlan, run_pbs_facility),
           "graphs": (GraphPlan, run_graphs)}


def main(argv: list[str] | None = None) -> int:
    """Run the parts asked for (`--only`, default all), each in a process of its own, print
    their tables and targets and write the JSON to `--out`; 0 even when a target is missed
    (the table says NO: a benchmark reports, it does not gate)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small world, in seconds")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON goes")
    parser.add_argument("--only", choices=sorted(RUNNERS), action="append",
                        help="run only this part (repeatable)")
    parser.add_argument("--run-part", nargs=2, metavar=("PART", "RESULT"),
                        help=argparse.SUPPRESS)  # internal: one part, in this process
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    if args.run_part:
        return _run_part(mode, *args.run_part)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "command": "python benchmarks/facility.py" + (" --quick" if args.quick else ""),
        "mode": mode, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "plans": {part: asdict(plan) for part, plan in PLANS[mode].items()},
        "seconds": {},
    }
    for part in args.only or list(RUNNERS):
        part_started = time.perf_counter()
        report[part] = _in_child(part, mode)
        report["seconds"][part] = round(time.perf_counter() - part_started, 1)
    report["seconds"]["total"] = round(time.perf_counter() - started, 1)
    report["targets"] = targets(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print_report(report)
    print(f"\nJSON: {args.out}")
    return 0


def _in_child(part: str, mode: str) -> dict[str, Any]:
    """Run one part in a fresh interpreter and read back its result."""
    with tempfile.TemporaryDirectory(prefix=f"facility-{part}-") as tmp:
        result = Path(tmp) / "result.json"
        argv = [sys.executable, str(Path(__file__).resolve()), "--run-part", part,
                str(result)] + (["--quick"] if mode == "quick" else [])
        done = subprocess.run(argv, cwd=HERE.parent, check=False)
        if done.returncode != 0:
            raise SystemExit(f"part {part!r} failed with exit code {done.returncode}")
        return dict(json.loads(result.read_text()))


def _run_part(mode: str, part: str, result: str) -> int:
    _, run = RUNNERS[part]
    with tempfile.TemporaryDirectory(prefix=f"watcher-{part}-") as tmp:
        out = run(PLANS[mode][part], Path(tmp))  # type: ignore[operator]
    Path(result).write_text(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
