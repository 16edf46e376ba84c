"""Dependencies end to end: the V1 staging chain, cascades, A records, finished parents."""

from __future__ import annotations

from watcher.sim.pbs.testing import PbsSim


def _a_records(sim: PbsSim) -> list[str]:
    return [line.split(";", 3)[3] for line in sim.accounting_lines() if ";A;" in line]


def _chain(sim: PbsSim, stage_in_script: str) -> dict[str, str]:
    """The V1 workflow; stage-in is submitted held so the chain is complete before it runs."""
    stage_in = sim.qsub(stage_in_script, "-N", "stage_in", "-h")
    compute = sim.qsub("exit 0\n", "-N", "compute", "-W", f"depend=afterok:{stage_in}")
    cleanup = sim.qsub("exit 0\n", "-N", "cleanup", "-W", f"depend=afternotok:{stage_in}")
    stage_out = sim.qsub("exit 0\n", "-N", "stage_out",
                         "-W", f"depend=afterok:{compute.split('.')[0]}")
    return {"stage_in": stage_in, "compute": compute, "cleanup": cleanup, "stage_out": stage_out}


def _release(sim: PbsSim, job_id: str) -> None:
    assert sim.run("qrls", job_id).returncode == 0


def test_v1_chain_when_stage_in_succeeds(sim: PbsSim) -> None:
    ids = _chain(sim, "exit 0\n")
    waiting = sim.qstat_json(ids["compute"])["Jobs"][ids["compute"]]
    assert (waiting["job_state"], waiting["substate"], waiting["Hold_Types"]) == ("H", 22, "s")
    assert waiting["depend"] == (f"afterok:{ids['stage_in']}@pbs-sim,"
                                 f"beforeok:{ids['stage_out']}@pbs-sim")
    parent = sim.qstat_json(ids["stage_in"])["Jobs"][ids["stage_in"]]
    assert parent["depend"] == (f"beforeok:{ids['compute']}@pbs-sim,"
                                f"beforenotok:{ids['cleanup']}@pbs-sim")
    _release(sim, ids["stage_in"])
    jobs = {name: sim.wait_for(job_id) for name, job_id in ids.items()}
    assert [jobs[n]["substate"] for n in ("stage_in", "compute", "stage_out")] == [92, 92, 92]
    assert "depend" not in jobs["stage_out"]  # satisfied entries leave the child
    assert jobs["stage_in"]["depend"].startswith("beforeok:")  # the parent keeps its list
    assert jobs["cleanup"]["substate"] == 91 and "Exit_status" not in jobs["cleanup"]
    assert f"Job deleted as result of dependency on job {ids['stage_in']}" in _a_records(sim)


def test_v1_chain_when_stage_in_fails(sim: PbsSim) -> None:
    ids = _chain(sim, "exit 1\n")
    _release(sim, ids["stage_in"])
    jobs = {name: sim.wait_for(job_id) for name, job_id in ids.items()}
    assert (jobs["stage_in"]["substate"], jobs["stage_in"]["Exit_status"]) == (93, 1)
    assert jobs["cleanup"]["substate"] == 92  # afternotok of a failed parent runs
    assert jobs["compute"]["substate"] == 91 and jobs["stage_out"]["substate"] == 91
    assert "run_count" not in jobs["compute"] and "run_count" not in jobs["stage_out"]
    records = _a_records(sim)
    assert f"Job deleted as result of dependency on job {ids['stage_in']}" in records
    assert f"Job deleted as result of dependency on job {ids['compute']}" in records  # cascade


def test_afterany_runs_either_way_and_several_parents(sim: PbsSim) -> None:
    first = sim.qsub("exit 3\n")
    second = sim.qsub("exit 0\n")
    child = sim.qsub("exit 0\n", "-W", f"depend=afterany:{first}:{second}")
    assert sim.wait_for(child)["substate"] == 92


def test_depending_on_finished_jobs(sim: PbsSim) -> None:
    ok = sim.qsub("exit 0\n")
    sim.wait_for(ok)
    satisfied = sim.qsub("exit 0\n", "-W", f"depend=afterok:{ok}")
    rejected = sim.qsub("exit 0\n", "-W", f"depend=afternotok:{ok}")
    assert sim.wait_for(satisfied)["substate"] == 92
    assert sim.wait_for(rejected)["substate"] == 91
    assert f"{ok} Finished job did not satisfy dependency" in _a_records(sim)


def test_depending_on_a_deleted_job(sim: PbsSim) -> None:
    deleted = sim.qsub("exit 0\n", "-h")
    sim.run("qdel", deleted)
    sim.wait_for(deleted)
    assert sim.wait_for(sim.qsub("exit 0\n", "-W", f"depend=afterok:{deleted}"))["substate"] == 91
    assert sim.wait_for(sim.qsub("exit 0\n", "-W", f"depend=afternotok:{deleted}"))[
        "substate"] == 92


def test_unknown_parent_is_rejected_after_queueing(sim: PbsSim) -> None:
    child = sim.qsub("exit 0\n", "-W", "depend=afterok:999980")
    assert sim.wait_for(child)["substate"] == 91
    assert "Dependency request for job rejected by 999980.pbs-sim Unknown Job Id" in (
        _a_records(sim))


def test_user_cannot_release_a_dependency_hold(sim: PbsSim) -> None:
    parent = sim.qsub("exit 0\n", "-h")  # held: cannot end while we look
    child = sim.qsub("exit 0\n", "-h", "-W", f"depend=afterok:{parent}")
    held = sim.wait_for(child, state="H")
    assert (held["Hold_Types"], held["substate"]) == ("su", 22)
    assert sim.run("qrls", child).returncode == 0
    still = sim.qstat_json(child)["Jobs"][child]
    assert (still["Hold_Types"], still["substate"], still["depend"]) == (
        "s", 22, f"afterok:{parent}@pbs-sim")
    assert sim.run("qrls", "-h", "s", child).returncode == 159
    sim.run("qrls", parent)
    assert sim.wait_for(child)["substate"] == 92


def test_after_waits_for_the_start_only(sim: PbsSim) -> None:
    parent = sim.qsub("sleep 3\n")
    child = sim.qsub("exit 0\n", "-W", f"depend=after:{parent}")
    sim.wait_for(child)
    assert sim.qstat_json(parent)["Jobs"][parent]["job_state"] in ("R", "E")
    sim.wait_for(parent)


def test_qdel_of_a_running_parent(sim: PbsSim) -> None:
    parent = sim.qsub("sleep 30\n")
    deleted = sim.qsub("exit 0\n", "-W", f"depend=afterok:{parent}")
    released = sim.qsub("exit 0\n", "-W", f"depend=afternotok:{parent}")
    sim.wait_for(parent, state="R")
    sim.run("qdel", parent)
    assert sim.wait_for(deleted)["substate"] == 91
    assert sim.wait_for(released)["substate"] == 92


def test_a_job_deleted_through_two_parents_gets_one_a_record(sim: PbsSim) -> None:
    """req_register.c deletes a job once (job_abt): the second parent finds it already gone."""
    first = sim.qsub("exit 1\n", "-h")
    middle = sim.qsub("exit 0\n", "-W", f"depend=afterok:{first}")
    last = sim.qsub("exit 0\n", "-W", f"depend=afterok:{first}:{middle}")
    _release(sim, first)
    assert sim.wait_for(last)["substate"] == 91
    sim.wait_for(middle)
    mine = [line.split(";", 3) for line in sim.accounting_lines() if f";A;{last};" in line]
    assert len(mine) == 1  # the cascade through `middle` reaches it first, as the list is walked
    assert mine[0][3] == f"Job deleted as result of dependency on job {middle}"
