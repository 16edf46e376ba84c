"""Staged workflows end to end: `watcher stage submit`, the staging rules, real jobs on the PBS
simulator, real transfers on the Globus emulator (files really move), mail in an SMTP sink.

The three steps run as a graph (stage-in -> compute -> stage-out, cleanup on_failure only if
the stage-in or compute failed): the cleanup job is submitted only when it is needed, so a
workflow that succeeds has one job, and one that failed at its stage-out has no cleanup."""

from __future__ import annotations

import json
import time

import globus_sdk
from sqlmodel import select

from tests.globus._world import USER
from tests.workflows._staging import FIXTURES, Staging
from watcher.events import VANISHED
from watcher.store.models import EventRecord, SourceHealth
from watcher.workflows.show import current_ids

# The staging world's fixtures (tests/workflows/_staging.py).
emu, globus, sim, make_service, sink, settings, world = FIXTURES


def job(world: Staging, wf: str, step: str = "compute") -> str:
    """The step's current job id (the record's latest)."""
    return current_ids(world.workflow(wf))[0][step]


def task(world: Staging, wf: str, step: str = "stage-in") -> str:
    """The step's current Globus task id."""
    return current_ids(world.workflow(wf))[1][step]


def status(world: Staging, wf: str, step: str) -> str:
    """The step's status in the record (`pending` before anything was done)."""
    record = world.workflow(wf)
    for section in ("steps", "on_failure"):
        entry = (record.progress.get(section) or {}).get(step)
        if entry is not None:
            return str(entry.get("status") or "pending")
    return "pending"


def tasks(world: Staging) -> list[dict]:
    return world.globus.emu.tasks()


def workflow_jobs(world: Staging, wf: str) -> dict[str, str]:
    """Job id -> step of every job of the workflow PBS knows (finished ones too)."""
    jobs = world.sim.qstat_json().get("Jobs", {})
    return {job_id: job["Variable_List"]["WATCHER_STEP"] for job_id, job in jobs.items()
            if job["Variable_List"].get("WATCHER_WORKFLOW") == wf}


def live_jobs(world: Staging, wf: str) -> dict[str, str]:
    """Job id -> step of the workflow's jobs PBS still has (not finished)."""
    jobs = world.sim.qstat_json().get("Jobs", {})
    return {job_id: job["Variable_List"]["WATCHER_STEP"] for job_id, job in jobs.items()
            if job["Variable_List"].get("WATCHER_WORKFLOW") == wf and job["job_state"] != "F"}


def body(world: Staging, index: int = 0) -> str:
    return str(world.sink.messages[index].message.get_content())


def test_a_stage_in_compute_stage_out_and_one_summary_email(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    compute, stage_in = job(world, wf), task(world, wf)
    assert world.job_state(compute) == "H"  # queued, held while the stage-in moves
    assert workflow_jobs(world, wf) == {compute: "compute"}  # no cleanup job up front
    world.cycle_until(lambda: world.workflow(wf).step == "done")
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): done"]
    assert "is done: all 3 steps succeeded" in body(world)
    assert workflow_jobs(world, wf) == {compute: "compute"}  # one job, the whole run
    assert world.sim.qstat_json(compute)["Jobs"][compute]["Job_Name"] == record.name
    cleanup = record.progress["on_failure"]["cleanup"]
    assert cleanup["jobs"] == [] and cleanup["n"] == 0  # never submitted
    assert not (world.run_dir / "cleanup-ran").exists()
    stage_out = task(world, wf, "stage-out")
    log = world.log(wf)
    for line in (f"stage-in: started: Globus task {stage_in}",
                 f"compute: submitted as {compute} (held)",
                 f"stage-in: task {stage_in} succeeded (1 file(s), 14 bytes)",
                 f"compute: job {compute} released",
                 f"compute: job {compute} finished (exit 0)",
                 f"stage-out: started: Globus task {stage_out}",
                 f"stage-out: task {stage_out} succeeded (1 file(s), 14 bytes)",
                 "workflow: done: every step succeeded"):
        assert line in log, (line, log)
    order = [log.index(line) for line in (
        f"stage-in: task {stage_in} succeeded (1 file(s), 14 bytes)",
        f"compute: job {compute} released", f"compute: job {compute} finished (exit 0)",
        f"stage-out: started: Globus task {stage_out}", "workflow: done: every step succeeded")]
    assert order == sorted(order)
    history = json.loads(world.cli("history", wf, "--json").stdout)
    assert sorted(history) == ["log", "name", "state", "steps", "workflow"]
    assert history["state"] == "done"
    assert {row["name"]: row["status"] for row in history["steps"]} == {
        "stage-in": "succeeded", "compute": "succeeded", "stage-out": "succeeded",
        "cleanup": "not needed"}


def test_b_a_failed_stage_in_runs_cleanup_and_mails_why(world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)  # 14 bytes: still running when it is failed
    wf = world.submit(*world.stage_in_args())
    compute = job(world, wf)
    assert workflow_jobs(world, wf) == {compute: "compute"}
    world.globus.emu.fail_task(task(world, wf), "PERMISSION_DENIED", "no write access")
    world.cycle_until(lambda: "cleanup" in current_ids(world.workflow(wf))[0])
    cleanup = job(world, wf, "cleanup")
    world.cycle_until(lambda: world.job_state(cleanup) == "F" and len(world.sink.messages) >= 1
                      and world.workflow(wf).step == "failed")
    assert world.job_state(compute) == "F"  # deleted while held: it never ran
    assert (world.run_dir / "cleanup-ran").exists()
    assert not (world.run_dir / "out").exists()  # compute never ran
    record = world.workflow(wf)
    assert world.sim.qstat_json(cleanup)["Jobs"][cleanup]["Job_Name"] == f"{record.name}-cleanup"
    [mail] = world.sink.messages
    assert mail.message["Subject"] == f"[watcher] {wf} ({record.name}): failed at stage-in"
    text = body(world)
    assert "PERMISSION_DENIED: no write access" in text
    assert "Not run (they come after it): compute, stage-out." in text
    assert "Started on_failure: cleanup." in text
    assert status(world, wf, "compute") == "skipped"
    assert status(world, wf, "stage-out") == "skipped"
    assert status(world, wf, "cleanup") == "succeeded"
    assert "stage-out" not in current_ids(record)[1] and len(tasks(world)) == 1
    assert sorted(workflow_jobs(world, wf).values()) == ["cleanup", "compute"]
    world.cycle_until(lambda: True)
    assert len(world.sink.messages) == 1  # one failure mail, none for the cleanup's end


def test_c_expired_credentials_mail_once_and_the_workflow_goes_on(world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    stage_in = task(world, wf)
    world.globus.emu.expire_credentials(USER)
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert world.subjects() == [
        f"[watcher] {wf} ({record.name}): Globus needs you to re-authenticate"]
    assert "watcher login" in body(world)
    assert f"The stage-in transfer of workflow {wf}" in body(world)
    assert record.step == "running" and status(world, wf, "stage-in") == "inactive"
    world.cycle_until(lambda: True)
    world.cycle_until(lambda: True)  # still INACTIVE: no second email
    assert len(world.sink.messages) == 1
    world.globus.emu.restore_credentials(USER)
    world.globus.emu.set_bandwidth(1e9)
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 2)
    assert world.subjects()[1] == f"[watcher] {wf} ({record.name}): done"
    assert (world.globus.src_dir / "results" / "result.txt").exists()
    assert len(tasks(world)) == 2  # the INACTIVE one resumed: not started again
    log = world.log(wf)
    waits = next(i for i, line in enumerate(log)
                 if line.startswith(f"stage-in: task {stage_in} waits for credentials"))
    succeeded = log.index(f"stage-in: task {stage_in} succeeded (1 file(s), 14 bytes)")
    assert waits < succeeded < log.index("workflow: done: every step succeeded")


def test_d_a_lost_queue_is_recovered_by_the_rule_without_a_second_transfer(
        world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    before, stage_in = job(world, wf), task(world, wf)
    world.cycle_until(lambda: True)  # the watcher has seen the held job
    assert world.sim.wipe() == 1  # compute: the only job (no cleanup up front)
    world.cycle_until(lambda: len(live_jobs(world, wf)) == 1)
    after = job(world, wf)
    assert after != before
    assert live_jobs(world, wf) == {after: "compute"}
    assert world.job_state(after) == "H"  # the stage-in is still running
    assert world.workflow(wf).progress["steps"]["compute"]["jobs"] == [before, after]
    assert len(tasks(world)) == 1 and task(world, wf) == stage_in
    assert f"compute: job {before} vanished from PBS" in world.log(wf)
    assert (f"compute: submitted again as {after} (held): job {before} is gone from PBS"
            in world.log(wf))
    world.globus.emu.set_bandwidth(1e9)
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1)
    assert len(tasks(world)) == 2  # stage-in and stage-out, nothing twice
    assert (world.globus.src_dir / "results" / "result.txt").exists()
    assert sum("vanished" in line for line in world.log(wf)) == 1
    assert workflow_jobs(world, wf) == {after: "compute"}  # the lost one is gone; no third


def test_d_watcher_recover_resubmits_only_what_is_missing_and_is_idempotent(
        world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    before = job(world, wf)
    world.cycle_until(lambda: True)
    world.sim.wipe()
    result = world.cli("recover", wf)
    assert result.exit_code == 0, result.output
    after = job(world, wf)
    assert result.output == f"{wf}: compute job {after} (held): job {before} is gone from PBS\n"
    assert "cleanup" not in result.output  # not needed: nothing failed
    again = world.cli("recover", wf)
    assert again.output.startswith(f"{wf}: nothing to recover")
    live = live_jobs(world, wf)
    assert live == {after: "compute"}
    world.cycle_until(lambda: len(vanished(world)) == 1)  # the old job, replaced already
    world.cycle_until(lambda: True)
    assert live_jobs(world, wf) == live and len(tasks(world)) == 1
    assert world.workflow(wf).progress["steps"]["compute"]["jobs"] == [before, after]
    world.globus.emu.set_bandwidth(1e9)
    world.cycle_until(lambda: world.workflow(wf).step == "done")
    assert len(tasks(world)) == 2


def vanished(world: Staging) -> list[str]:
    with world.service.store.session(write=False) as session:
        return list(session.exec(select(EventRecord.subject).where(
            EventRecord.change == VANISHED)))


def test_e_a_transfer_started_elsewhere_is_grafted(world: Staging) -> None:
    data = globus_sdk.TransferData(world.src, world.dst, label="started by hand")
    data.add_item("/in/", "/run/in/", recursive=True)
    task_id = str(world.globus.submitter.submit_transfer(data)["task_id"])
    wf = world.submit("--stage-in-task", task_id)
    assert task(world, wf) == task_id
    assert world.workflow(wf).spec["steps"]["stage-in"]["transfer"]["task"] == task_id
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1)
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    assert len(tasks(world)) == 2  # the grafted one, never started again, and the stage-out
    assert world.workflow(wf).progress["steps"]["stage-in"]["tasks"] == [task_id]
    log = world.log(wf)
    assert f"stage-in: grafted: Globus task {task_id} (a transfer you started)" in log
    assert not any(line.startswith("stage-in: started:") for line in log)
    assert world.subjects()[0].endswith(": done")


def test_a_failing_compute_job_runs_cleanup_and_stages_nothing_out(world: Staging) -> None:
    (world.run_dir / "fail.sh").write_text("#!/bin/sh\nexit 3\n")
    wf = world.submit(*world.stage_in_args(), script="fail.sh")
    compute = job(world, wf)
    world.cycle_until(lambda: "cleanup" in current_ids(world.workflow(wf))[0])
    cleanup = job(world, wf, "cleanup")
    world.cycle_until(lambda: world.job_state(cleanup) == "F" and len(world.sink.messages) == 1)
    assert (world.run_dir / "cleanup-ran").exists()
    record = world.workflow(wf)
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): failed at compute"]
    text = body(world)
    assert f"compute: job {compute} failed (exit 3)" in text
    assert "Not run (they come after it): stage-out." in text
    assert "Started on_failure: cleanup." in text
    world.cycle_until(lambda: world.workflow(wf).step == "failed")
    assert len(tasks(world)) == 1 and "stage-out" not in current_ids(world.workflow(wf))[1]
    assert status(world, wf, "stage-out") == "skipped"
    assert "workflow: on_failure finished; the workflow failed" in world.log(wf)


WALLTIME_ONCE = """#!/bin/sh
cd "$PBS_O_WORKDIR"
if [ ! -e first-try ]; then touch first-try; sleep 30; fi
mkdir -p out
tr a-z A-Z < in/data.txt > out/result.txt
"""


def test_a_walltime_kill_is_resubmitted_once_then_the_workflow_completes(
        world: Staging) -> None:
    (world.run_dir / "slow.sh").write_text(WALLTIME_ONCE)
    (world.run_dir / "slow.sh").chmod(0o755)
    wf = world.submit(*world.stage_in_args(), script="slow.sh",
                      qsub=("-l", "walltime=00:00:01"))
    first = job(world, wf)
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1,
                      timeout=20)
    second = job(world, wf)
    assert second != first
    assert world.workflow(wf).progress["steps"]["compute"]["jobs"] == [first, second]
    assert world.sim.qstat_json(first)["Jobs"][first]["Exit_status"] == -29
    assert (world.globus.src_dir / "results" / "result.txt").exists()
    assert not (world.run_dir / "cleanup-ran").exists()
    assert workflow_jobs(world, wf) == {first: "compute", second: "compute"}  # no cleanup
    log = world.log(wf)
    assert (f"compute: job {first} killed by its walltime (exit -29); submitting it again "
            "(retry 1 of 1)") in log
    assert any(line.startswith(f"compute: submitted again as {second}") for line in log)
    assert world.subjects()[0].endswith(": done")


def test_without_stage_out_the_workflow_is_done_when_compute_ends_well(world: Staging) -> None:
    result = world.cli("stage", "submit", "--json", "--cleanup", "cleanup.sh",
                       *world.stage_in_args(), "compute.sh")
    wf = json.loads(result.stdout)["workflow"]
    assert list(world.workflow(wf).spec["steps"]) == ["stage-in", "compute"]
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): done"]
    assert "is done: all 2 steps succeeded" in body(world)
    assert f"compute: job {job(world, wf)} finished (exit 0)" in world.log(wf)
    assert workflow_jobs(world, wf) == {job(world, wf): "compute"}  # no cleanup job
    assert len(tasks(world)) == 1 and (world.run_dir / "out" / "result.txt").exists()


def test_a_failed_stage_out_is_mailed_cleanup_does_not_run_and_retry_stages_out(
        world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    compute = job(world, wf)
    world.cycle_until(lambda: status(world, wf, "stage-in") == "succeeded")
    world.globus.emu.set_bandwidth(1)  # the stage-out will still run when it is failed
    world.cycle_until(lambda: "stage-out" in current_ids(world.workflow(wf))[1])
    first = task(world, wf, "stage-out")
    world.globus.emu.fail_task(first, "QUOTA_EXCEEDED", "archive is full")
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): failed at stage-out"]
    text = body(world)
    assert "QUOTA_EXCEEDED: archive is full" in text
    assert (f"Not started: cleanup (it runs only if stage-in or compute failed); what the "
            f"steps made is still in {record.workdir}.") in text
    assert f"Run `watcher stage retry {wf}`" in text
    world.cycle_until(lambda: world.workflow(wf).step == "failed")
    world.cycle_until(lambda: True)
    assert status(world, wf, "cleanup") == "skipped"
    assert "cleanup" not in current_ids(world.workflow(wf))[0]
    assert workflow_jobs(world, wf) == {compute: "compute"}  # the cleanup was never submitted
    assert not (world.run_dir / "cleanup-ran").exists()
    assert (world.run_dir / "out" / "result.txt").exists()  # the output stays for the retry
    assert not (world.globus.src_dir / "results" / "result.txt").exists()

    world.globus.emu.set_bandwidth(1e9)
    retried = world.cli("stage", "retry", wf, "--json")
    assert retried.exit_code == 0, retried.output
    assert json.loads(retried.stdout)["steps"] == ["stage-out"]  # only what did not succeed
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 2)
    assert world.subjects()[1] == f"[watcher] {wf} ({record.name}): done"
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    second = task(world, wf, "stage-out")
    assert second != first
    assert world.workflow(wf).progress["steps"]["stage-out"]["tasks"] == [first, second]
    assert len(tasks(world)) == 3  # stage-in once, stage-out twice
    assert workflow_jobs(world, wf) == {compute: "compute"}  # compute did not run again
    assert world.workflow(wf).progress["steps"]["compute"]["jobs"] == [compute]
    assert not (world.run_dir / "cleanup-ran").exists()
    assert "workflow: retry (round 2): running again stage-out" in world.log(wf)


def test_a_cancelled_workflow_deletes_its_job_runs_no_cleanup_and_mails_nothing(
        world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    compute, stage_in = job(world, wf), task(world, wf)
    result = world.cli("stage", "cancel", wf, "--reason", "wrong input", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == [f"compute job {compute} deleted",
                                                 f"stage-in task {stage_in} cancelled"]
    for _ in range(3):  # the deletion's and the cancel's news move nothing
        world.cycle_until(lambda: True)
    assert world.workflow(wf).step == "cancelled"
    assert world.job_state(compute) == "F"
    assert workflow_jobs(world, wf) == {compute: "compute"}  # no cleanup: nothing failed
    assert not (world.run_dir / "cleanup-ran").exists()
    assert world.subjects() == []
    assert "workflow: cancelled: wrong input" in world.log(wf)


def test_a_long_queue_wait_with_two_second_access_tokens_still_completes(world: Staging) -> None:
    """The monitor-job scripts broke when a token expired during the queue wait."""
    world.globus.emu.set_token_lifetime(2)
    first = world.globus.log_in(lifetime=2)
    # Every node busy for 8 s: the compute job, submitted 3-4 s later on a loaded machine, still
    # waits in the queue for more than two token lifetimes.
    for _ in range(4):
        world.sim.qsub("sleep 8\n", cwd=world.run_dir)
    wf = world.submit(*world.stage_in_args())
    world.cycle_until(lambda: world.workflow(wf).step == "done", timeout=40)
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): done"]
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    compute_id = job(world, wf)
    compute = world.sim.qstat_json(compute_id)["Jobs"][compute_id]
    waited = _epoch(compute["stime"]) - _epoch(compute["qtime"])
    assert waited >= 4  # two token lifetimes and more
    with world.service.store.session(write=False) as session:
        health = session.get(SourceHealth, "globus")
    assert health is not None and health.failures == 0 and health.last_error is None
    saved = world.globus.tokens.transfer_tokens()
    assert saved is not None and saved.refresh_token != first["refresh_token"]
    assert world.globus.emu.counters()["POST /v2/oauth2/token"] >= 3


def _epoch(ctime: str) -> float:
    return time.mktime(time.strptime(ctime, "%a %b %d %H:%M:%S %Y"))
