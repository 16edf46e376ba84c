"""qdel, qhold and qrls through the shims: PBS messages, exit codes, states and substates."""

from __future__ import annotations

import time
from pathlib import Path

from watcher.sim.pbs.messages import QHOLD_USAGE, QRLS_USAGE
from watcher.sim.pbs.testing import PbsSim


def test_qdel_running_job_is_terminated_with_signal_status(sim: PbsSim, tmp_path: Path) -> None:
    job_id = sim.qsub("sleep 30\n", cwd=tmp_path)
    deadline = time.monotonic() + 20
    # R/42: its session runs (qdel in R/41, before the MoM started it, ends it unrun)
    while sim.wait_for(job_id, state="R")["substate"] != 42:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    result = sim.run("qdel", job_id)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    job = sim.wait_for(job_id)
    assert (job["substate"], job["Exit_status"]) == (91, 271)
    assert job["comment"].endswith(" and terminated")
    assert f";D;{job_id};requestor=" in "\n".join(sim.accounting_lines())


def test_qdel_queued_job_has_no_exit_status(sim: PbsSim) -> None:
    job_id = sim.qsub("exit 0\n", "-h")
    assert sim.run("qdel", job_id.split(".")[0]).returncode == 0
    job = sim.wait_for(job_id)
    assert job["substate"] == 91 and "Exit_status" not in job


def test_qdel_finished_and_unknown_jobs(sim: PbsSim) -> None:
    job_id = sim.qsub("exit 0\n")
    sim.wait_for(job_id)
    result = sim.run("qdel", job_id)
    assert (result.returncode, result.stderr) == (35, f"qdel: Job has finished {job_id}\n")
    result = sim.run("qdel", "999990")
    assert (result.returncode, result.stderr) == (153, "qdel: Unknown Job Id 999990.pbs-sim\n")
    result = sim.run("qdel", "not-an-id")
    assert (result.returncode, result.stderr) == (
        1, "qdel: illegally formed job identifier: not-an-id\n")
    assert sim.run("qdel").returncode == 2


def test_qhold_and_qrls_user_hold(sim: PbsSim) -> None:
    job_id = sim.qsub("exit 0\n", "-l", "select=1:ncpus=64")  # can never run: stays queued
    sim.wait_for(job_id, state="Q")
    assert sim.run("qhold", job_id).returncode == 0
    job = sim.wait_for(job_id, state="H")
    assert (job["Hold_Types"], job["substate"]) == ("u", 20)
    assert job["comment"].startswith("Job held by ")
    assert sim.run("qrls", "-h", "u", job_id).returncode == 0
    job = sim.wait_for(job_id, state="Q")
    assert job["Hold_Types"] == "n" and job["substate"] == 10
    result = sim.run("qrls", job_id)  # no hold left: silent success
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    sim.run("qdel", job_id)


def test_operator_and_system_holds_need_privilege(sim: PbsSim) -> None:
    job_id = sim.qsub("exit 0\n", "-h")
    for command in ("qhold", "qrls"):
        for hold in ("o", "s"):
            result = sim.run(command, "-h", hold, job_id)
            assert (result.returncode, result.stderr) == (
                159, f"{command}: Unauthorized Request  {job_id}\n")
    sim.run("qdel", job_id)


def test_bad_hold_letters_and_finished_jobs(sim: PbsSim) -> None:
    result = sim.run("qhold", "-h", "x", "1")
    assert (result.returncode, result.stderr) == (2, "qhold: illegal -h value\n" + QHOLD_USAGE)
    assert sim.run("qrls", "-h", "nu", "1").stderr == "qrls: illegal -h value\n" + QRLS_USAGE
    job_id = sim.qsub("exit 0\n")
    sim.wait_for(job_id)
    result = sim.run("qrls", job_id)
    assert (result.returncode, result.stderr) == (35, f"qrls: Job has finished {job_id}\n")


def test_manager_may_release_a_system_hold(tmp_path: Path) -> None:
    from watcher.sim.pbs.context import current_user

    with PbsSim(tmp_path / "pbs", managers=(current_user(),)) as sim:
        parent = sim.qsub("sleep 30\n")
        child = sim.qsub("exit 0\n", "-W", f"depend=afterok:{parent}")
        assert sim.wait_for(child, state="H")["Hold_Types"] == "s"
        assert sim.run("qrls", "-h", "s", child).returncode == 0
        job = sim.wait_for(child)
        assert job["depend"] == f"afterok:{parent}@pbs-sim"
        sim.run("qdel", parent)


def test_qdel_of_a_job_that_is_already_exiting(tmp_path: Path) -> None:
    with PbsSim(tmp_path / "pbs", tick=1.5) as sim:  # E lasts a whole tick
        job_id = sim.qsub("exit 0\n")
        sim.wait_for(job_id, state="E", timeout=20)
        result = sim.run("qdel", job_id)
        assert (result.returncode, result.stderr) == (
            173, f"qdel: Request invalid for state of job {job_id}\n")
        assert sim.wait_for(job_id)["substate"] == 92
