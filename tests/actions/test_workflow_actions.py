"""`advance_workflow` as the staging rules run it, on the PBS simulator, the Globus emulator,
an SMTP sink and a real store: the service observes PBS and Globus and commits what it sees
(the tracker writes each step's news, the shipped staging rules fire and queue their
`advance_workflow` intents), and the test runs each intent through the action itself, with
the intent's key and the service's services, as the ledger would; so it can run one twice,
or two at once.

What the two removed actions did (`recover_workflow`: submit again what a lost queue took;
`stage_out_workflow`: start the stage-out once) is this one action's: a lost job is submitted
again once even when two firings race for the workflow's lease, a walltime kill is submitted
again, the stage-out starts exactly once after compute's exit 0, and a missing store or
workflow is a permanent failure that says which."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from tests.workflows._staging import FIXTURES, Staging
from tests.workflows.test_cli import workflow_jobs
from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, Outcome, Services
from watcher.store.models import Intent
from watcher.workflows.show import current_ids

emu, globus, sim, make_service, sink, settings, world = FIXTURES
ADVANCE = ACTIONS["advance_workflow"]
SLOW = """#!/bin/sh
sleep 30
"""


def observe(world: Staging) -> None:
    """One poll of every source that is due, committed (events, tracker, firings, intents)
    without running the intents: the test runs them."""
    service = world.service
    for source in service.sources:
        if source.due():
            obs = asyncio.run(source.poll())
            service.commit_observation(source, obs)


def pending(world: Staging, seen: set[str]) -> list[Intent]:
    """The advance_workflow intents the staging rules queued since `seen` (which grows)."""
    with world.service.store.session(write=False) as session:
        found = [intent for intent in session.exec(
            select(Intent).where(col(Intent.action_type) == "advance_workflow")
            .order_by(col(Intent.id))).all() if intent.key not in seen]
    seen.update(intent.key for intent in found)
    return found


def fired(world: Staging, seen: set[str], *rules: str, timeout: float = 20.0,
          before: Callable[[], None] = lambda: None) -> list[Intent]:
    """Observe until the staging rules `rules` have each queued an intent; those intents."""
    deadline = time.monotonic() + timeout
    got: list[Intent] = []
    while time.monotonic() < deadline:
        before()
        observe(world)
        got += pending(world, seen)
        if set(rules) <= {intent.rule for intent in got}:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{rules} did not fire; got {[i.key for i in got]}")


async def _execute(world: Staging, intent: Intent, services: Services | None = None
                   ) -> Outcome:
    runner = world.service.runner
    ctx = ActionContext(runner.pbs, intent.key, intent.rule, datetime.now(UTC),
                        runner.services if services is None else services)
    return await ADVANCE.execute(ctx, ADVANCE.params.model_validate(intent.params))


def run(world: Staging, *intents: Intent) -> list[Outcome]:
    """Run the intents' actions at once (concurrently), as two ledger workers would."""
    async def together() -> list[Outcome]:
        return list(await asyncio.gather(*(_execute(world, i) for i in intents)))
    return asyncio.run(together())


def test_a_lost_job_is_submitted_again_once_when_two_firings_race(world: Staging) -> None:
    seen: set[str] = set()
    wf = world.submit(*world.stage_in_args(), script="compute.sh")
    [job] = workflow_jobs(world, wf)
    observe(world)  # the watcher has seen compute, held, before the queue is lost
    assert world.job_state(job) == "H"
    assert world.sim.wipe() == 1
    # In one round: compute vanished from PBS and the stage-in succeeded; both staging rules
    # fire, and their two advance_workflow runs race for the workflow.
    intents = fired(world, seen, "workflow-job-ended", "workflow-transfer-ended")
    assert {intent.params["workflow"] for intent in intents} == {wf}
    outcomes = run(world, *intents)
    assert all(outcome.ok for outcome in outcomes), [o.detail for o in outcomes]
    [new_job] = workflow_jobs(world, wf)
    assert new_job != job
    # One run did it all; the other waited for the lease and found nothing left to do.
    assert sorted(outcome.detail for outcome in outcomes) == sorted([
        f"{wf}: compute job {new_job}: job {job} is gone from PBS", f"{wf}: nothing to do"])
    log = world.log(wf)
    # Unheld: its stage-in had succeeded by the time it was submitted again.
    assert [line for line in log if "submitted again" in line] == [
        f"compute: submitted again as {new_job}: job {job} is gone from PBS"]
    assert f"compute: job {job} vanished from PBS" in log
    assert current_ids(world.workflow(wf))[0] == {"compute": new_job}
    assert len(world.globus.emu.tasks()) == 1  # the stage-in was never started again
    assert world.job_state(new_job) != "H"
    # A retry of either firing (the ledger retrying after a crash) submits nothing more.
    again = run(world, *intents)
    assert [outcome.detail for outcome in again] == [f"{wf}: nothing to do"] * 2
    assert workflow_jobs(world, wf) == [new_job]


def test_a_walltime_kill_is_submitted_again(world: Staging) -> None:
    (world.run_dir / "slow.sh").write_text(SLOW)
    (world.run_dir / "slow.sh").chmod(0o755)
    seen: set[str] = set()
    wf = world.submit(*world.stage_in_args(), script="slow.sh",
                      qsub=("-l", "walltime=00:00:02"))
    [job] = workflow_jobs(world, wf)
    [stage_in] = run(world, *fired(world, seen, "workflow-transfer-ended"))
    assert stage_in.ok and stage_in.detail == f"{wf}: compute job {job} released"
    [ended] = fired(world, seen, "workflow-job-ended")
    [outcome] = run(world, ended)
    assert outcome.ok, outcome.detail
    assert world.sim.qstat_json(job)["Jobs"][job]["Exit_status"] == -29
    [first, second] = workflow_jobs(world, wf)
    assert first == job
    assert outcome.detail == f"{wf}: compute job {second}: job {job} was killed by its walltime"
    log = world.log(wf)
    assert (f"compute: job {job} killed by its walltime (exit -29); submitting it again "
            "(retry 1 of 1)") in log
    assert f"compute: submitted again as {second}: job {job} was killed by its walltime" in log
    compute = world.workflow(wf).progress["steps"]["compute"]
    assert (compute["n"], compute["jobs"], compute["retries_used"]) == (2, [job, second],
                                                                        {"walltime": 1})
    assert world.workflow(wf).step == "running"
    [again] = run(world, ended)  # the same firing again: no third job
    assert again.detail == f"{wf}: nothing to do" and len(workflow_jobs(world, wf)) == 2
    # The second kill has no retry left: the workflow fails, cleanup runs, one mail says why.
    [last] = run(world, *fired(world, seen, "workflow-job-ended"))
    assert last.ok, last.detail
    record = world.workflow(wf)
    assert record.step == "failing" and record.progress["steps"]["stage-out"]["status"] == \
        "skipped"
    assert world.subjects() == [f"[watcher] {wf} (slow): failed at compute"]
    assert len(workflow_jobs(world, wf, "cleanup")) == 1


def test_the_stage_out_starts_exactly_once_after_computes_exit_0(world: Staging) -> None:
    seen: set[str] = set()
    wf = world.submit(*world.stage_in_args())
    run(world, *fired(world, seen, "workflow-transfer-ended"))
    [ended] = fired(world, seen, "workflow-job-ended")
    [job] = workflow_jobs(world, wf)
    assert world.sim.qstat_json(job)["Jobs"][job]["Exit_status"] == 0
    # The firing and a retry of it (another ledger worker) at once: one stage-out task.
    outcomes = run(world, ended, ended)
    assert all(outcome.ok for outcome in outcomes), [o.detail for o in outcomes]
    stage_outs = [task for task in world.globus.emu.tasks()
                  if task["label"] == f"watcher {wf} stage-out"]
    [task] = stage_outs
    assert (task["source_endpoint_id"], task["destination_endpoint_id"]) == (world.dst,
                                                                             world.src)
    assert sorted(outcome.detail for outcome in outcomes) == sorted([
        f"{wf}: stage-out task {task['task_id']} started", f"{wf}: nothing to do"])
    log = world.log(wf)
    assert log.count(f"stage-out: started: Globus task {task['task_id']}") == 1
    assert current_ids(world.workflow(wf))[1]["stage-out"] == task["task_id"]
    assert len(world.globus.emu.tasks()) == 2  # the stage-in and the stage-out
    # Its end finishes the workflow: done, one mail, no cleanup job.
    [done] = run(world, *fired(world, seen, "workflow-transfer-ended"))
    assert done.ok and "workflow done: every step succeeded" in done.detail, done.detail
    assert world.workflow(wf).step == "done"
    assert world.subjects() == [f"[watcher] {wf} (compute): done"]
    assert workflow_jobs(world, wf) == [job]


def test_without_a_stage_out_compute_exit_0_finishes_the_workflow(world: Staging) -> None:
    seen: set[str] = set()
    result = world.cli("stage", "submit", "--json", *world.stage_in_args(), "compute.sh")
    assert result.exit_code == 0, result.output
    wf = result.stdout.split('"workflow": "')[1].split('"')[0]
    run(world, *fired(world, seen, "workflow-transfer-ended"))
    [outcome] = run(world, *fired(world, seen, "workflow-job-ended"))
    assert outcome.ok and "workflow done: every step succeeded" in outcome.detail
    assert len(world.globus.emu.tasks()) == 1  # nothing to stage out, nothing started
    assert world.subjects() == [f"[watcher] {wf} (compute): done"]


@pytest.mark.parametrize(("workflow", "says"), [
    ("wf-000000", "no workflow 'wf-000000'"),
    ("{{ workflow.id }}", "no workflow: the event is not about a workflow's job or transfer"),
])
def test_a_workflow_that_is_not_there_is_refused_for_good(world: Staging, workflow: str,
                                                          says: str) -> None:
    intent = Intent(key="r|1", rule="r", action_type="advance_workflow",
                    params={"workflow": workflow})
    [outcome] = run(world, intent)
    assert not outcome.ok and not outcome.retryable and outcome.detail == says
    assert world.sim.qstat_json().get("Jobs", {}) == {} and world.globus.emu.tasks() == []


def test_no_store_is_refused_for_good_and_says_so(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    intent = Intent(key="r|1", rule="r", action_type="advance_workflow",
                    params={"workflow": wf})
    services = Services(store=None, transfer=world.service.runner.services.transfer)
    outcome = asyncio.run(_execute(world, intent, services))
    assert not outcome.ok and not outcome.retryable
    assert outcome.detail.startswith("no store"), outcome.detail
    assert len(workflow_jobs(world, wf)) == 1 and world.workflow(wf).step == "running"
