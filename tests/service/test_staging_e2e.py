"""Staged workflows end to end: `watcher stage submit`, the staging rules, real jobs on the PBS
simulator, real transfers on the Globus emulator (files really move), mail in an SMTP sink."""

from __future__ import annotations

import json
import time

import globus_sdk
from sqlmodel import select

from tests.globus._world import USER
from tests.workflows._staging import FIXTURES, Staging
from watcher.events import VANISHED
from watcher.store.models import EventRecord, SourceHealth

# The staging world's fixtures (tests/workflows/_staging.py).
emu, globus, sim, make_service, sink, settings, world = FIXTURES


def test_a_stage_in_compute_stage_out_and_one_summary_email(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    record = world.workflow(wf)
    assert world.job_state(record.compute_job) == "H"
    world.cycle_until(lambda: world.workflow(wf).step == "done")
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): done"]
    assert world.job_state(record.cleanup_job) == "F"  # deleted once the workflow was done
    assert not (world.run_dir / "cleanup-ran").exists()


def tasks(world: Staging) -> list[dict]:
    return world.globus.emu.tasks()


def test_b_a_failed_stage_in_releases_cleanup_and_mails_why(world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)  # 14 bytes: still running when it is failed
    wf = world.submit(*world.stage_in_args())
    record = world.workflow(wf)
    world.globus.emu.fail_task(record.stage_in_task, "PERMISSION_DENIED", "no write access")
    world.cycle_until(lambda: world.job_state(record.cleanup_job) == "F"
                      and len(world.sink.messages) >= 1)
    world.cycle_until(lambda: world.job_state(record.compute_job) == "F")
    assert (world.run_dir / "cleanup-ran").exists()
    assert not (world.run_dir / "out").exists()  # compute never ran
    [mail] = world.sink.messages
    assert mail.message["Subject"] == f"[watcher] {wf} ({record.name}): stage-in failed"
    assert "PERMISSION_DENIED: no write access" in mail.message.get_content()
    assert world.workflow(wf).stage_out_task is None and len(tasks(world)) == 1
    assert world.workflow(wf).step == "failed"


def test_c_expired_credentials_mail_once_and_the_workflow_goes_on(world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    world.globus.emu.expire_credentials(USER)
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    assert "re-authenticate" in world.subjects()[0]
    assert "watcher login" in world.sink.messages[0].message.get_content()
    assert world.workflow(wf).step == "credentials"
    world.cycle_until(lambda: True)
    world.cycle_until(lambda: True)  # still INACTIVE: no second email
    assert len(world.sink.messages) == 1
    world.globus.emu.restore_credentials(USER)
    world.globus.emu.set_bandwidth(1e9)
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 2)
    assert world.subjects()[1].endswith(": done")
    assert (world.globus.src_dir / "results" / "result.txt").exists()
    steps = [line.split(":")[0] for line in world.log(wf)]
    assert steps.index("credentials") < steps.index("running") < steps.index("done")


def workflow_jobs(world: Staging, wf: str) -> list[str]:
    jobs = world.sim.qstat_json().get("Jobs", {})
    return [job_id for job_id, job in jobs.items()
            if job["Variable_List"].get("WATCHER_WORKFLOW") == wf]


def live_jobs(world: Staging, wf: str) -> dict[str, str]:
    """Job id -> step of the workflow's jobs PBS still has (not finished)."""
    jobs = world.sim.qstat_json().get("Jobs", {})
    return {job_id: job["Variable_List"]["WATCHER_STEP"] for job_id, job in jobs.items()
            if job["Variable_List"].get("WATCHER_WORKFLOW") == wf and job["job_state"] != "F"}


def test_d_a_lost_queue_is_recovered_by_the_rule_without_a_second_transfer(
        world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    before = world.workflow(wf)
    world.cycle_until(lambda: True)  # the watcher has seen both held jobs
    assert world.sim.wipe() == 2
    world.cycle_until(lambda: len(live_jobs(world, wf)) == 2)
    after = world.workflow(wf)
    assert {after.compute_job, after.cleanup_job}.isdisjoint(
        {before.compute_job, before.cleanup_job})
    assert sorted(live_jobs(world, wf).values()) == ["cleanup", "compute"]
    assert world.job_state(after.compute_job) == "H"  # the stage-in is still running
    assert len(tasks(world)) == 1 and after.stage_in_task == before.stage_in_task
    world.globus.emu.set_bandwidth(1e9)
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1)
    assert len(tasks(world)) == 2  # stage-in and stage-out, nothing twice
    assert (world.globus.src_dir / "results" / "result.txt").exists()
    assert sum("vanished" in line for line in world.log(wf)) == 2
    assert len(workflow_jobs(world, wf)) == 2  # the lost two are gone; no third was submitted


def test_d_watcher_recover_resubmits_only_what_is_missing_and_is_idempotent(
        world: Staging) -> None:
    world.globus.emu.set_bandwidth(1)
    wf = world.submit(*world.stage_in_args())
    world.cycle_until(lambda: True)
    world.sim.wipe()
    result = world.cli("recover", wf)
    assert result.exit_code == 0, result.output
    assert "compute job" in result.output and "cleanup job" in result.output
    again = world.cli("recover", wf)
    assert again.output.startswith(f"{wf}: nothing to recover")
    live = live_jobs(world, wf)
    world.cycle_until(lambda: len(vanished(world)) == 2)  # the old jobs, replaced already
    world.cycle_until(lambda: True)
    assert live_jobs(world, wf) == live and len(tasks(world)) == 1
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
    assert world.workflow(wf).stage_in_task == task_id
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1)
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    assert len(tasks(world)) == 2


def test_a_failing_compute_job_runs_cleanup_and_stages_nothing_out(world: Staging) -> None:
    (world.run_dir / "fail.sh").write_text("#!/bin/sh\nexit 3\n")
    wf = world.submit(*world.stage_in_args(), script="fail.sh")
    record = world.workflow(wf)
    world.cycle_until(lambda: world.job_state(record.cleanup_job) == "F"
                      and len(world.sink.messages) == 1)
    assert (world.run_dir / "cleanup-ran").exists()
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): compute failed, exit 3"]
    world.cycle_until(lambda: world.workflow(wf).step == "failed")
    assert len(tasks(world)) == 1 and world.workflow(wf).stage_out_task is None


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
    first = world.workflow(wf).compute_job
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1,
                      timeout=20)
    record = world.workflow(wf)
    assert record.compute_job != first
    assert record.progress["compute"]["jobs"] == [first, record.compute_job]
    assert world.sim.qstat_json(first)["Jobs"][first]["Exit_status"] == -29
    assert (world.globus.src_dir / "results" / "result.txt").exists()
    assert not (world.run_dir / "cleanup-ran").exists()


def test_without_stage_out_the_workflow_is_done_when_compute_ends_well(world: Staging) -> None:
    result = world.cli("stage", "submit", "--json", "--cleanup", "cleanup.sh",
                       *world.stage_in_args(), "compute.sh")
    wf = json.loads(result.stdout)["workflow"]
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1)
    record = world.workflow(wf)
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): done"]
    assert "ended with exit 0" in world.sink.messages[0].message.get_content()
    world.cycle_until(lambda: world.job_state(record.cleanup_job) == "F")
    assert len(tasks(world)) == 1 and (world.run_dir / "out" / "result.txt").exists()


def test_a_failed_stage_out_is_mailed_and_the_cleanup_job_stays_held(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    world.cycle_until(lambda: world.workflow(wf).progress["stage_in"]["status"] == "succeeded")
    world.globus.emu.set_bandwidth(1)  # the stage-out will still run when it is failed
    world.cycle_until(lambda: world.workflow(wf).stage_out_task is not None)
    record = world.workflow(wf)
    world.globus.emu.fail_task(record.stage_out_task, "QUOTA_EXCEEDED", "archive is full")
    world.cycle_until(lambda: len(world.sink.messages) == 1)
    assert world.subjects() == [f"[watcher] {wf} ({record.name}): stage-out failed"]
    assert "QUOTA_EXCEEDED: archive is full" in world.sink.messages[0].message.get_content()
    assert world.workflow(wf).step == "failed"
    assert world.job_state(record.cleanup_job) == "H"


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
    compute = world.sim.qstat_json(record.compute_job)["Jobs"][record.compute_job]
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
