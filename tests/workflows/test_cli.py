"""`watcher stage submit`, `watcher recover`, `watcher history WF` and `watcher status` from the
command line, on the PBS simulator and the Globus emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.workflows._staging import FIXTURES, Staging
from watcher.store.models import Workflow

emu, globus, sim, make_service, sink, settings, world = FIXTURES


def workflows(world: Staging) -> list[Workflow]:
    with world.service.store.session(write=False) as session:
        from sqlmodel import select
        return list(session.exec(select(Workflow)).all())


def compute_jobs(world: Staging, wf: str) -> list[str]:
    jobs = world.sim.qstat_json().get("Jobs", {})
    return sorted(job_id for job_id, job in jobs.items()
                  if job["Variable_List"].get("WATCHER_WORKFLOW") == wf
                  and job["Variable_List"].get("WATCHER_STEP") == "compute")


def test_submit_prints_the_id_and_says_what_it_did(world: Staging) -> None:
    result = world.cli("stage", "submit", *world.stage_in_args(), "--name", "run-1",
                       "compute.sh", "--", "-l", "walltime=00:10:00")
    assert result.exit_code == 0, result.output
    wf = result.stdout.strip()
    assert re.fullmatch(r"wf-[0-9a-f]{6}", wf)
    assert f"workflow {wf} recorded; submitting" in result.stderr
    assert "compute job" in result.stderr and "stage-in task" in result.stderr
    assert "not submitted yet" not in result.stderr  # it was just submitted
    record = world.workflow(wf)
    assert f"compute job {record.compute_job} submitted (held)" in result.stderr
    job = world.sim.qstat_json(record.compute_job)["Jobs"][record.compute_job]
    assert (job["Job_Name"], job["job_state"]) == ("run-1", "H")
    assert job["Resource_List"]["walltime"] == "00:10:00"
    assert job["Variable_List"]["WATCHER_STEP"] == "compute"
    assert record.cleanup_job is None  # no --cleanup, no cleanup job


def test_a_workflow_file_is_submitted(world: Staging) -> None:
    (world.run_dir / "wf.yaml").write_text(
        f"name: from-file\nscript: compute.sh\ncleanup: cleanup.sh\n"
        f"stage_in: [{{from: '{world.src}:/in/', to: '{world.dst}:/run/in/'}}]\n")
    result = world.cli("stage", "submit", "-f", "wf.yaml")
    assert result.exit_code == 0, result.output
    record = world.workflow(result.stdout.strip())
    assert record.name == "from-file" and record.cleanup_job and record.stage_in_task


def test_a_bad_workflow_file_names_file_line_and_field_and_records_nothing(
        world: Staging) -> None:
    (world.run_dir / "wf.yaml").write_text("script: compute.sh\nstage_in_task: T\nemial: x\n")
    result = world.cli("stage", "submit", "-f", "wf.yaml")
    assert result.exit_code == 1
    assert "wf.yaml:3:1: emial: unknown key 'emial' (did you mean 'email'?)" in result.output
    assert workflows(world) == []


def test_refusals_before_anything_is_recorded(world: Staging) -> None:
    both = world.cli("stage", "submit", "-f", "wf.yaml", "compute.sh")
    assert "either with -f FILE or with options" in both.output
    resume = world.cli("stage", "submit", "--resume", "wf-abcdef", "compute.sh")
    assert "--resume WF takes no workflow options" in resume.output
    missing = world.cli("stage", "submit", *world.stage_in_args(), "nothere.sh")
    assert "script 'nothere.sh' is not a file" in missing.output
    bad_pair = world.cli("stage", "submit", "--stage-in", "nocolon", "x:/y", "compute.sh")
    assert "--stage-in: expected ENDPOINT_ID:PATH but got 'nocolon'" in bad_pair.output
    unknown = world.cli("stage", "submit", "--stage-in-task", "no-such-task", "compute.sh")
    assert "cannot graft task 'no-such-task'" in unknown.output
    world.globus.settings.token_db.unlink()
    no_login = world.cli("stage", "submit", *world.stage_in_args(), "compute.sh")
    assert "run `watcher login` first" in no_login.output
    assert {r.exit_code for r in (both, resume, missing, bad_pair, unknown, no_login)} == {1}
    assert workflows(world) == []


def test_pbs_down_mid_submit_then_resume_finishes_without_doubles(world: Staging) -> None:
    world.sim.stop()
    failed = world.cli("stage", "submit", *world.stage_in_args(), "compute.sh")
    assert failed.exit_code == 1
    wf = re.search(r"--resume (wf-[0-9a-f]{6})", failed.output).group(1)
    world.sim.start()
    resumed = world.cli("stage", "submit", "--resume", wf)
    assert resumed.exit_code == 0, resumed.output
    again = world.cli("stage", "submit", "--resume", wf, "--json")
    assert json.loads(again.stdout) == {"workflow": wf, "done": []}
    assert len(compute_jobs(world, wf)) == 1 and len(world.globus.emu.tasks()) == 1


def crash_submit(world: Staging, failpoint: str) -> str:
    """Run `watcher stage submit` in a process that dies at `failpoint`; the id it printed."""
    command = [sys.executable, "-m", "watcher", "stage", "submit", "--config",
               str(world.config), *world.stage_in_args(), "--cleanup", "cleanup.sh",
               "compute.sh"]
    env = {**os.environ, "WATCHER_FAILPOINTS": f"{failpoint}=1"}
    done = subprocess.run(command, cwd=world.run_dir, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -9, done.stderr  # SIGKILL, like a power cut
    return re.search(r"workflow (wf-[0-9a-f]{6}) recorded", done.stderr).group(1)


def test_a_crash_after_qsub_is_resumed_by_adopting_the_tagged_job(world: Staging) -> None:
    wf = crash_submit(world, "workflow-after-qsub")
    [lost] = compute_jobs(world, wf)
    assert world.workflow(wf).compute_job is None  # PBS has it, the record does not
    result = world.cli("recover", wf)
    assert result.exit_code == 0, result.output
    assert f"compute job {lost} (held): submission interrupted" in result.output
    assert compute_jobs(world, wf) == [lost] and world.workflow(wf).compute_job == lost
    assert len(world.globus.emu.tasks()) == 1


def test_a_crash_after_the_transfer_is_resumed_without_a_second_transfer(
        world: Staging) -> None:
    wf = crash_submit(world, "workflow-after-transfer")
    [task] = world.globus.emu.tasks()
    assert world.workflow(wf).stage_in_task is None
    result = world.cli("stage", "submit", "--resume", wf)
    assert result.exit_code == 0, result.output
    assert world.workflow(wf).stage_in_task == task["task_id"]
    assert len(world.globus.emu.tasks()) == 1


def test_history_shows_the_step_log_and_status_lists_workflows(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    world.cycle_until(lambda: world.workflow(wf).step == "done")
    shown = world.cli("history", wf)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith(f"Workflow {wf} (compute), now done: compute ")
    steps = [line.split()[3] for line in lines[1:]]
    assert steps[:3] == ["submitted", "submitted", "submitted"]
    assert {"credentials", "stage-in", "running", "stage-out", "done"} <= set(steps)
    assert "stage-out succeeded" in shown.output
    missing = world.cli("history", "wf-000000")
    assert missing.exit_code == 1 and "no workflow 'wf-000000'" in missing.output
    status = world.cli("status", "--json")
    [row] = json.loads(status.stdout)["workflows"]
    assert (row["id"], row["step"]) == (wf, "done")
    assert Path(world.run_dir, "out", "result.txt").exists()
