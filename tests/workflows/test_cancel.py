"""`watcher stage cancel WF` on the PBS simulator and the Globus emulator: jobs deleted,
transfers cancelled, the reason in the step log, and nothing the staging rules do afterwards."""

from __future__ import annotations

import json

from tests.workflows._staging import FIXTURES, Staging

emu, globus, sim, make_service, sink, settings, world = FIXTURES


def test_cancel_deletes_the_jobs_cancels_the_stage_in_and_records_why(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    record = world.workflow(wf)
    result = world.cli("stage", "cancel", wf, "--reason", "wrong input", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["failed"] == []
    assert f"compute job {record.compute_job} deleted" in done["done"]
    assert f"cleanup job {record.cleanup_job} deleted" in done["done"]
    assert any(line.startswith(f"stage-in task {record.stage_in_task} ") for line in done["done"])
    assert world.workflow(wf).step == "cancelled"
    assert "cancelled: cancelled: wrong input" in world.log(wf)
    assert world.job_state(record.compute_job) in (None, "F")
    world.cycle_until(lambda: world.job_state(record.cleanup_job) in (None, "F"))
    for _ in range(3):  # the deletions' news moves nothing: no cleanup, no mail
        world.cycle_until(lambda: True)
    assert world.workflow(wf).step == "cancelled"
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
    record = world.workflow(wf)
    world.sim.stop()
    first = world.cli("stage", "cancel", wf)
    assert first.exit_code == 1
    assert f"compute job {record.compute_job} not deleted" in first.output
    assert f"run `watcher stage cancel {wf}` again" in first.output
    world.sim.start()
    second = world.cli("stage", "cancel", wf, "--json")
    assert second.exit_code == 0, second.output
    assert f"compute job {record.compute_job} deleted" in json.loads(second.stdout)["done"]
