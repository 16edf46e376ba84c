"""qsig (suspend/resume, plain signals), qrerun and operator holds through the shims, with the
messages, exit codes, states and accounting records of OpenPBS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.sim.pbs.sigcmds import signal_number
from watcher.sim.pbs.testing import PbsSim, unexpected_errors

OP = "op"


@pytest.fixture(scope="module")
def opsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PbsSim]:
    with PbsSim(tmp_path_factory.mktemp("pbs"), nodes=2, kill_delay=0.5, tick=0.05,
                operators=(OP,)) as running:
        yield running


def record(sim: PbsSim, job_id: str) -> dict:
    return sim.qstat_json(job_id)["Jobs"][job_id]


def running(sim: PbsSim, script: str, *args: str) -> str:
    job_id = sim.qsub(script, *args)
    deadline = time.monotonic() + 20
    while record(sim, job_id)["substate"] != 42:  # the session is known: signals reach it
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return job_id


def test_signal_names_as_qsig_reads_them() -> None:
    assert [signal_number(n) for n in ("SIGKILL", "KILL", "9", "SIGNULL", "term")] == [
        9, 9, 9, 0, 15]
    assert signal_number("BOGUS") is None and signal_number("999") is None


def test_suspend_stops_the_job_and_its_walltime_resume_goes_on(opsim: PbsSim,
                                                               tmp_path: Path) -> None:
    job_id = running(opsim, "sleep 2\n", "-l", "walltime=00:00:03", "-l", "select=1:ncpus=1")
    refused = opsim.run("qsig", "-s", "suspend", job_id)
    assert (refused.returncode, refused.stderr) == (
        159, f"qsig: Unauthorized Request  {job_id}\n")
    assert opsim.run("qsig", "-s", "suspend", job_id, user=OP).returncode == 0
    held = record(opsim, job_id)
    assert (held["job_state"], held["substate"]) == ("S", 43)
    assert opsim.run("qsig", "-s", "suspend", job_id, user=OP).returncode == 0  # no-op
    time.sleep(3)  # longer than the walltime: suspended time is not walltime
    assert record(opsim, job_id)["job_state"] == "S"
    wrong = opsim.run("qsig", "-s", "admin-resume", job_id, user=OP)
    assert (wrong.returncode, wrong.stderr) == (
        73, f"qsig: Job can not be resumed with the requested resume signal {job_id}\n")
    assert opsim.run("qsig", "-s", "resume", job_id, user=OP).returncode == 0
    done = opsim.wait_for(job_id)
    assert (done["Exit_status"], done["substate"]) == (0, 92)
    lines = "\n".join(opsim.accounting_lines())
    assert f";z;{job_id};resources_used." in lines and f";r;{job_id};" in lines
    finished = opsim.run("qsig", "-s", "resume", job_id, user=OP)
    assert (finished.returncode, finished.stderr) == (
        173, f"qsig: Request invalid for state of job {job_id}\n")


def test_a_suspended_jobs_vnode_runs_another_job(tmp_path: Path) -> None:
    with PbsSim(tmp_path / "pbs", nodes=1, tick=0.05, kill_delay=0.5,
                operators=(OP,)) as sim:
        first = running(sim, "sleep 30\n")
        assert sim.run("qsig", "-s", "suspend", first, user=OP).returncode == 0
        second = sim.qsub("exit 0\n")
        assert sim.wait_for(second)["Exit_status"] == 0
        assert sim.run("qsig", "-s", "resume", first, user=OP).returncode == 0
        deadline = time.monotonic() + 10
        while record(sim, first)["substate"] != 42:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        sim.run("qdel", first)


def test_a_plain_signal_reaches_the_jobs_processes(opsim: PbsSim) -> None:
    job_id = running(opsim, "trap 'exit 7' USR1\nwhile true; do sleep 0.1; done\n")
    assert opsim.run("qsig", "-s", "USR1", job_id).returncode == 0  # the owner may
    assert opsim.wait_for(job_id)["Exit_status"] == 7
    queued = opsim.qsub("exit 0\n", "-h")
    bad = opsim.run("qsig", queued)
    assert (bad.returncode, bad.stderr) == (
        173, f"qsig: Request invalid for state of job {queued}\n")
    opsim.run("qdel", queued)
    assert opsim.run("qsig").returncode == 2
    unknown = opsim.run("qsig", "999991")
    assert (unknown.returncode, unknown.stderr) == (
        153, "qsig: Unknown Job Id 999991.pbs-sim\n")


def test_qrerun_kills_and_queues_the_job_again(opsim: PbsSim, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    job_id = running(opsim, f'echo run >> {marker}\n[ "$(wc -l < {marker})" -ge 2 ] && exit 0\n'
                     "sleep 30\n")
    refused = opsim.run("qrerun", job_id)
    assert (refused.returncode, refused.stderr) == (
        159, f"qrerun: Unauthorized Request  {job_id}\n")
    assert opsim.run("qrerun", job_id, user=OP).returncode == 0
    done = opsim.wait_for(job_id)
    assert (done["Exit_status"], done["run_count"]) == (0, 2)
    assert marker.read_text() == "run\nrun\n"
    rerun = [line for line in opsim.accounting_lines() if f";R;{job_id};" in line]
    assert len(rerun) == 1 and "Exit_status=-11" in rerun[0] and "run_count=1" in rerun[0]


def test_qrerun_refuses_what_cannot_be_rerun(opsim: PbsSim) -> None:
    pinned = running(opsim, "sleep 30\n", "-r", "n")
    refused = opsim.run("qrerun", pinned, user=OP)
    assert (refused.returncode, refused.stderr) == (
        190, f"qrerun: job is not rerunnable {pinned}\n")
    opsim.run("qdel", pinned)
    queued = opsim.qsub("exit 0\n", "-h")
    not_running = opsim.run("qrerun", queued, user=OP)
    assert not_running.returncode == 173
    opsim.run("qdel", queued)
    assert opsim.run("qrerun", "-W", "nope", queued, user=OP).returncode == 2


def test_qrerun_of_an_array_requeues_its_ended_subjobs(opsim: PbsSim) -> None:
    array_id = opsim.qsub('[ "$PBS_ARRAY_INDEX" = 2 ] && sleep 30\nexit 0\n', "-J", "1-2")
    opsim.wait_for(array_id.replace("[]", "[1]"), state="X")
    opsim.wait_for(array_id.replace("[]", "[2]"), state="R")
    assert opsim.run("qrerun", array_id, user=OP).returncode == 0
    deadline = time.monotonic() + 20
    while record(opsim, array_id.replace("[]", "[1]"))["run_count"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    opsim.run("qdel", array_id)
    assert opsim.wait_for(array_id)["substate"] == 91


def test_operator_holds_every_job_for_an_outage_and_releases_them(opsim: PbsSim) -> None:
    mine = opsim.qsub("exit 0\n", "-h")
    array_id = opsim.qsub("exit 0\n", "-J", "1-2", "-h")
    user_try = opsim.run("qhold", "-h", "o", mine)
    assert (user_try.returncode, user_try.stderr) == (
        159, f"qhold: Unauthorized Request  {mine}\n")
    held = opsim.operator_hold_all(OP)
    assert {mine, array_id} <= set(held)
    for job_id in (mine, array_id):
        seen = record(opsim, job_id)
        assert (seen["job_state"], seen["Hold_Types"]) == ("H", "ou")
        assert seen["comment"].startswith(f"Job held by {OP} on ")
    assert opsim.run("qrls", mine).returncode == 0  # the user's own hold only
    assert record(opsim, mine)["Hold_Types"] == "o"
    assert opsim.run("qrls", "-h", "o", mine).returncode == 159
    opsim.operator_release_all(OP)
    assert opsim.wait_for(mine)["Exit_status"] == 0
    assert record(opsim, array_id)["Hold_Types"] == "u"
    opsim.run("qdel", array_id)


def test_operator_holds_skip_a_job_that_ended_meanwhile(opsim: PbsSim) -> None:
    held = opsim.qsub("exit 0\n", "-h")
    ended = opsim.qsub("exit 0\n")
    opsim.wait_for(ended)
    # as if `ended` had been listed just before it finished: qhold says so, nothing else
    result = opsim.run("qhold", "-h", "o", held, ended, user=OP)
    assert (result.returncode, result.stderr) == (35, f"qhold: Job has finished {ended}\n")
    assert unexpected_errors(result.stderr) == []  # so the helpers take it in their stride
    assert unexpected_errors("qhold: Unauthorized Request  1.pbs-sim\n") == [
        "qhold: Unauthorized Request  1.pbs-sim"]
    opsim.operator_release_all(OP)
    opsim.run("qdel", held)
