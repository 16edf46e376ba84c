"""The facility benchmark, run the way README.md says, in its small `--quick` world.

Only counts are checked, never times: one qstat per cycle, at most ceil(N/chunk) task_list
requests per cycle, no store write in an idle cycle. Counts are deterministic; times are the
benchmark's business, not a test's.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TASK_LIST = "GET /v0.10/task_list"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("facility") / "facility.json"
    done = subprocess.run([sys.executable, "benchmarks/facility.py", "--quick", "--out",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=480)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Targets (issue 8)" in done.stdout  # the table was printed, not only the JSON
    return dict(json.loads(out.read_text()))


def test_the_report_has_every_part_and_every_target(report: dict[str, Any]) -> None:
    assert report["mode"] == "quick"
    assert {"economy", "cycle", "latency", "pbs", "graphs", "targets", "seconds", "plans"} <= set(
        report)
    names = " | ".join(t["target"] for t in report["targets"])
    for words in ("PBS poll call", "ceil(N/chunk)", "json.loads", "store writes",
                  "resident", "median reaction"):
        assert words in names
    assert all(isinstance(t["met"], bool) and t["measured"] for t in report["targets"])


def test_each_cycle_makes_one_pbs_poll_call_whatever_n(report: dict[str, Any]) -> None:
    rows, plan = report["economy"]["rows"], report["plans"]["economy"]
    assert [row["n"] for row in rows] == plan["ns"] + plan["default_ns"]
    for row in rows:
        assert [r["qstat"] for r in row["rounds"]] == [1] * len(row["rounds"])
    for cycle in ("first_cycle", "second_cycle", "idle_service_cycle"):
        assert report["cycle"][cycle]["pbs_calls"] == {"qstat": 1}


def test_globus_task_requests_stay_within_ceil_n_over_chunk(report: dict[str, Any]) -> None:
    for row in report["economy"]["rows"]:
        bound = math.ceil(row["n"] / row["chunk"])
        assert row["ceil_n_over_chunk"] == bound
        asked = {r["task_list"] for r in row["rounds"]}
        if row["globus_every_rounds"] == 1:
            assert asked == {bound}  # every round, every watched task
        else:  # paced: some rounds do not ask at all
            assert asked == {0, bound}
        assert not any(route.startswith("GET /v0.10/task/") for route in
                       row["watcher"]["globus_routes"])  # never one get_task per task
    cycle = report["cycle"]
    bound = math.ceil(cycle["world"]["tasks"] / cycle["plan"]["chunk"])
    assert cycle["idle_service_cycle"]["globus_requests"][TASK_LIST] <= bound


def test_an_idle_cycle_writes_nothing_to_the_store(report: dict[str, Any]) -> None:
    cycle = report["cycle"]
    assert cycle["idle_service_cycle"]["store"]["writes"] == 0
    # Nor does it take SQLite's write lock, which would queue it behind `watcher stage submit`.
    assert "BEGIN IMMEDIATE" not in cycle["idle_service_cycle"]["store"]["statements"]
    assert cycle["idle_staged"]["store_writes"] == 0 and cycle["idle_staged"]["events"] == 0
    assert cycle["first_cycle"]["store"]["writes"] > 0  # the counter does see writes
    assert cycle["burst"]["events"] == cycle["plan"]["burst"] + 1  # + the burst's blocker


def test_the_staged_cycle_sees_what_the_sources_see(report: dict[str, Any]) -> None:
    equivalence = report["cycle"]["equivalence"]
    assert equivalence["pbs"] == {"same_observation": True,
                                  "subjects": report["cycle"]["world"]["jobs"]}
    assert equivalence["globus"] == {"same_observation": True,
                                     "subjects": report["cycle"]["world"]["tasks"]}


def test_workflows_are_released_and_monitor_jobs_cost_slots(report: dict[str, Any]) -> None:
    for row in report["economy"]["rows"]:
        watcher, monitors = row["watcher"], row["monitor_jobs"]
        assert watcher["released"] == row["n"] and watcher["batch_slots"] == 0
        assert watcher["pbs_calls_by_command"]["qrls"] == row["n"]
        assert monitors["batch_slots"] == row["n"] and monitors["pbs_calls_total"] == 2 * row["n"]
        assert monitors["validation"]["real_requests"] == monitors["validation"][
            "emulator_counted"]  # the emulator counted every request the monitors made


def test_every_change_got_its_reaction(report: dict[str, Any]) -> None:
    latency = report["latency"]
    assert latency["missed"] == 0
    assert latency["all"]["count"] == report["plans"]["latency"]["samples"]


def test_the_qselect_source_reads_no_record_in_an_idle_cycle(report: dict[str, Any]) -> None:
    """Part 4 (issue 13): counts only. The full listing serialises every job each cycle; the
    qselect source asks two id lists and no record, and both see every change, no vanish."""
    pbs = report["pbs"]
    jobs = pbs["world"]["jobs"]
    listing, chosen = pbs["listing"], pbs["select"]
    assert listing["idle"]["records_max"] == jobs and listing["idle"]["pbs_calls_max"] == 1
    assert chosen["idle"]["commands"] == ["qselect", "qselect"]
    assert chosen["idle"]["records_max"] == 0
    assert chosen["first_cycle"]["records"] == pbs["world"]["user_jobs"]
    for run in (listing, chosen):
        assert run["vanished"] == 0 and run["missed_changes"] == 0


def test_graph_workflows_in_flight_cost_ceil_requests_and_no_writes(report: dict[str, Any]
                                                                     ) -> None:
    """Part 5 (issue 17): N six-step graph workflows with their inputs moving; the figures
    are there, Globus is asked ceil(watched / chunk) times a cycle, an idle cycle writes
    nothing (and the warm-up did write: the counter sees writes)."""
    graphs = report["graphs"]
    world, idle = graphs["world"], graphs["idle_summary"]
    n = report["plans"]["graphs"]["workflows"]
    assert world["workflows"] == n and world["steps_per_workflow"] == 6
    assert world["watched_tasks"] == 2 * n and world["jobs"] == 2 * n
    assert world["workflow_states"] == {"running": n}  # nothing moved: all still in flight
    bound = math.ceil(world["watched_tasks"] / graphs["plan"]["chunk"])
    assert [c["globus_requests"] for c in graphs["idle"]] == [{TASK_LIST: bound}] * idle[
        "cycles"]
    assert idle["store_writes"] == 0 and "BEGIN IMMEDIATE" not in idle["store"]["statements"]
    assert graphs["warmup"][0]["store"]["writes"] > 0
    assert idle["cpu_median"] > 0
    names = " | ".join(t["target"] for t in report["targets"])
    assert "ceil(watched tasks / chunk)" in names and "CPU per idle cycle < 100 ms" in names
