"""`watcher stage cancel WF` on the PBS simulator and the Globus emulator: jobs deleted,
transfers cancelled, the reason in the step log, and nothing the staging rules do afterwards."""

from __future__ import annotations

import json

from tests.workflows._staging import FIXTURES, Staging
from tests.workflows.test_cli import workflow_jobs
from watcher.workflows.show import current_ids

emu, globus, sim, make_service, sink, settings, world = FIXTURES


def test_cancel_deletes_the_jobs_cancels_the_stage_in_and_records_why(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    jobs, tasks = current_ids(world.workflow(wf))
    assert list(jobs) == ["compute"]  # the cleanup job is held back, not submitted
    compute, stage_in = jobs["compute"], tasks["stage-in"]
    result = world.cli("stage", "cancel", wf, "--reason", "wrong input", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["failed"] == []
    assert done["done"][0] == f"compute job {compute} deleted"
    # The emulator may have finished the stage-in already: cancelled, or had already ended.
    assert done["done"][1:] in ([f"stage-in task {stage_in} cancelled"],
                                [f"stage-in task {stage_in} had already ended"])
    record = world.workflow(wf)
    assert record.step == "cancelled"
    assert "workflow: cancelled: wrong input" in world.log(wf)
    assert record.progress["cancel"]["reason"] == "wrong input"
    assert record.progress["on_failure"]["cleanup"]["status"] == "cancelled"
    assert world.job_state(compute) in (None, "F")
    world.cycle_until(lambda: world.job_state(compute) in (None, "F"))
    for _ in range(3):  # the deletions' news moves nothing: no cleanup, no mail
        world.cycle_until(lambda: True)
    record = world.workflow(wf)
    assert record.step == "cancelled" and record.progress["on_failure"]["cleanup"]["jobs"] == []
    assert workflow_jobs(world, wf) == [compute]  # no cleanup job was ever submitted
    assert world.subjects() == []


def test_cancel_again_finishes_quietly_and_an_ended_or_unknown_workflow_is_refused(
        world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    assert world.cli("stage", "cancel", wf).exit_code == 0
    again = world.cli("stage", "cancel", wf)
    assert again.exit_code == 0, again.output
    assert f"workflow {wf} cancelled (again)" in again.stdout
    unknown = world.cli("stage", "cancel", "wf-000000")
    assert unknown.exit_code == 1
    assert "no workflow 'wf-000000'" in unknown.output


def test_a_cancel_with_pbs_down_says_what_is_left_and_a_second_one_finishes(
        world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    compute = current_ids(world.workflow(wf))[0]["compute"]
    world.sim.stop()
    first = world.cli("stage", "cancel", wf)
    assert first.exit_code == 1
    assert f"compute job {compute} not deleted" in first.output
    assert f"run `watcher stage cancel {wf}` again" in first.output
    [left] = world.workflow(wf).progress["cancel"]["pending"]  # Globus answered: only PBS
    assert left.startswith(f"compute job {compute} not deleted: ")
    world.sim.start()
    second = world.cli("stage", "cancel", wf, "--json")
    assert second.exit_code == 0, second.output
    answer = json.loads(second.stdout)
    assert (answer["done"][0], answer["failed"]) == (f"compute job {compute} deleted", [])
    assert world.job_state(compute) in (None, "F")
    assert world.workflow(wf).progress["cancel"]["pending"] == []
