"""The server loop and the runners: how jobs end, FIFO on busy nodes, outages of the server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from watcher.sim.pbs import control
from watcher.sim.pbs.testing import PbsSim


@pytest.mark.parametrize(("script", "substate", "status", "suffix"), [
    ("exit 0\n", 92, 0, " and finished"),
    ("exit 5\n", 93, 5, " and failed"),
    ("kill -USR1 $$\n", 93, 266, " and failed"),  # killed by signal N: 256 + N
])
def test_exit_status_decides_the_final_substate(sim: PbsSim, script: str, substate: int,
                                                 status: int, suffix: str) -> None:
    job = sim.wait_for(sim.qsub(script))
    assert (job["substate"], job["Exit_status"], job["run_count"]) == (substate, status, 1)
    assert job["comment"].startswith("Job run at ") and job["comment"].endswith(suffix)
    assert job["Stageout_status"] == 1 and isinstance(job["history_timestamp"], int)
    assert set(job["resources_used"]) == {"cpupercent", "cput", "mem", "ncpus", "vmem",
                                          "walltime"}


def test_walltime_kill(sim: PbsSim) -> None:
    job = sim.wait_for(sim.qsub("sleep 30\n", "-l", "walltime=00:00:01"))
    assert (job["substate"], job["Exit_status"]) == (93, -29)
    assert job["comment"].endswith(" and exceeded resource walltime")
    assert job["resources_used"]["walltime"] in ("00:00:01", "00:00:02")


def test_states_seen_in_order_and_exiting_lasts_a_tick(tmp_path: Path) -> None:
    expected = [("Q", 10), ("R", 41), ("R", 42), ("E", 50), ("F", 92)]
    with PbsSim(tmp_path / "pbs", tick=1.0) as sim:  # E lasts a tick: long enough to see
        job_id = sim.qsub("sleep 1.5\n")
        seen: list[tuple[str, int]] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not seen or seen[-1][0] != "F"):
            job = sim.qstat_json(job_id)["Jobs"][job_id]
            if not seen or seen[-1] != (job["job_state"], job["substate"]):
                seen.append((job["job_state"], job["substate"]))
            time.sleep(0.03)
    assert seen == [state for state in expected if state in seen]  # in order, none unknown
    assert {("R", 42), ("E", 50), ("F", 92)} <= set(seen)


def _with_comment(sim: PbsSim, job_id: str) -> dict:
    job = sim.wait_for(job_id, state="Q")
    while "comment" not in job:  # set by the next scheduling cycle
        job = sim.wait_for(job_id, state="Q")
    return job


def test_fifo_on_busy_nodes(own_sim: PbsSim) -> None:
    first = [own_sim.qsub("sleep 2\n") for _ in range(2)]
    waiting = own_sim.qsub("exit 0\n")
    assert _with_comment(own_sim, waiting)["comment"] == (
        "Not Running: Insufficient amount of resource: ncpus (R: 1 A: 0 T: 2)")
    assert all(own_sim.qstat_json(j)["Jobs"][j]["job_state"] == "R" for j in first)
    assert own_sim.wait_for(waiting)["substate"] == 92
    never = own_sim.qsub("exit 0\n", "-l", "select=1:ncpus=8")
    assert _with_comment(own_sim, never)["comment"] == (
        "Can Never Run: Insufficient amount of resource: ncpus (R: 8 A: 2 T: 2)")


def test_jobs_finish_while_the_server_is_stopped(own_sim: PbsSim, tmp_path: Path) -> None:
    job_id = own_sim.qsub("sleep 0.5\necho done\n", "-N", "survivor", cwd=tmp_path)
    own_sim.wait_for(job_id, state="R")
    own_sim.stop()
    assert own_sim.run("qstat", job_id).returncode == 255
    output = tmp_path / f"survivor.o{job_id.split('.')[0]}"
    deadline = time.monotonic() + 10
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the runner ends the job and records its obit meanwhile
    assert output.read_text() == "done\n"
    own_sim.start()
    job = own_sim.wait_for(job_id)
    assert (job["substate"], job["Exit_status"]) == (92, 0)


def test_a_lost_runner_requeues_the_job(own_sim: PbsSim) -> None:
    job_id = own_sim.qsub("sleep 1\n")
    first = own_sim.wait_for(job_id, state="R")
    while "session_id" not in first:
        first = own_sim.wait_for(job_id, state="R")
    own_sim.stop()
    control.kill_runners(own_sim.paths)  # the execution host crashed during the outage
    own_sim.start()
    job = own_sim.wait_for(job_id, timeout=40)
    assert (job["run_count"], job["substate"]) == (2, 92)


def test_a_job_whose_runner_keeps_dying_is_held_after_20_attempts(tmp_path: Path) -> None:
    from watcher.sim.pbs import model, store
    from watcher.sim.pbs.model import Job
    from watcher.sim.pbs.paths import SimPaths
    from watcher.sim.pbs.server import Server

    paths = SimPaths(tmp_path / "pbs")
    paths.make_dirs()
    store.initialise(paths.db)
    conn = store.connect(paths.db)
    attrs = {"server": "pbs-sim", "run_count": "20", "Hold_Types": "n", "comment": "x",
             "exec_host": "node01/0", "Resource_List": {"select": "1:ncpus=1"}}
    with store.transaction(conn):
        model.insert(conn, Job(7, "R", 42, attrs, nodes=[["node01", 0, 1]]))
    server = Server(paths)
    server.tick(time.time(), store.settings(conn))
    job = model.load(conn, 7)
    assert job is not None and (job.state, job.substate, job.holds) == ("H", 20, "s")
    assert job.attrs["comment"] == "job held, too many failed attempts to run"
    assert "exec_host" not in job.attrs and job.nodes is None
