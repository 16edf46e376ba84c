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
from watcher.workflows.show import current_ids

emu, globus, sim, make_service, sink, settings, world = FIXTURES


def workflows(world: Staging) -> list[Workflow]:
    with world.service.store.session(write=False) as session:
        from sqlmodel import select
        return list(session.exec(select(Workflow)).all())


def workflow_jobs(world: Staging, wf: str, step: str | None = None) -> list[str]:
    """The jobs PBS has of workflow `wf` (of its step `step`), by their tags."""
    jobs = world.sim.qstat_json().get("Jobs", {})
    return sorted(job_id for job_id, job in jobs.items()
                  if job["Variable_List"].get("WATCHER_WORKFLOW") == wf
                  and step in (None, job["Variable_List"].get("WATCHER_STEP")))


def compute_jobs(world: Staging, wf: str) -> list[str]:
    return workflow_jobs(world, wf, "compute")


def ids(world: Staging, wf: str) -> tuple[dict[str, str], dict[str, str]]:
    """({step: current job}, {step: current task}) as the record has them."""
    return current_ids(world.workflow(wf))


def test_submit_prints_the_id_and_says_what_it_did(world: Staging) -> None:
    result = world.cli("stage", "submit", *world.stage_in_args(), "--name", "run-1",
                       "compute.sh", "--", "-l", "walltime=00:10:00")
    assert result.exit_code == 0, result.output
    wf = result.stdout.strip()
    assert re.fullmatch(r"wf-[0-9a-f]{6}", wf)
    jobs, tasks = ids(world, wf)
    assert (list(jobs), list(tasks)) == (["compute"], ["stage-in"])
    assert result.stderr.splitlines() == [
        f"workflow {wf} recorded; submitting",
        f"  stage-in task {tasks['stage-in']} started",
        f"  compute job {jobs['compute']} submitted (held)"]
    job = world.sim.qstat_json(jobs["compute"])["Jobs"][jobs["compute"]]
    assert (job["Job_Name"], job["job_state"]) == ("run-1", "H")
    assert job["Resource_List"]["walltime"] == "00:10:00"
    assert job["Variable_List"]["WATCHER_STEP"] == "compute"
    record = world.workflow(wf)
    assert record.step == "running" and list(record.spec["steps"]) == ["stage-in", "compute"]
    assert record.spec["on_failure"] == {}  # no --cleanup, no cleanup step
    assert workflow_jobs(world, wf) == [jobs["compute"]]


def test_a_workflow_file_is_submitted(world: Staging) -> None:
    (world.run_dir / "wf.yaml").write_text(
        f"name: from-file\nscript: compute.sh\ncleanup: cleanup.sh\n"
        f"stage_in: [{{from: '{world.src}:/in/', to: '{world.dst}:/run/in/'}}]\n")
    result = world.cli("stage", "submit", "-f", "wf.yaml")
    assert result.exit_code == 0, result.output
    wf = result.stdout.strip()
    record = world.workflow(wf)
    jobs, tasks = ids(world, wf)
    assert record.name == "from-file" and list(tasks) == ["stage-in"]
    # The cleanup step is recorded, not submitted: it runs only if stage-in or compute fails.
    assert record.spec["on_failure"]["cleanup"]["if_failed"] == ["stage-in", "compute"]
    assert record.progress["on_failure"]["cleanup"]["status"] == "pending"
    assert list(jobs) == ["compute"] and workflow_jobs(world, wf) == [jobs["compute"]]


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
    malformed = world.cli("stage", "submit", "--stage-in-task", "no-such-task", "compute.sh")
    assert "--stage-in-task: String should match pattern" in malformed.output
    nobody = "0f0f0f0f-0000-4000-8000-000000000000"  # well formed, unknown to Globus
    unknown = world.cli("stage", "submit", "--stage-in-task", nobody, "compute.sh")
    assert f"cannot graft task '{nobody}'" in unknown.output
    world.globus.settings.token_db.unlink()
    no_login = world.cli("stage", "submit", *world.stage_in_args(), "compute.sh")
    assert "run `watcher login` first" in no_login.output
    assert {r.exit_code for r in (both, resume, missing, bad_pair, malformed, unknown,
                                  no_login)} == {1}
    assert workflows(world) == []


def test_pbs_down_mid_submit_then_resume_finishes_without_doubles(world: Staging) -> None:
    world.sim.stop()
    failed = world.cli("stage", "submit", *world.stage_in_args(), "compute.sh")
    assert failed.exit_code == 1
    wf = re.search(r"--resume (wf-[0-9a-f]{6})", failed.output).group(1)
    world.sim.start()
    resumed = world.cli("stage", "submit", "--resume", wf)
    assert resumed.exit_code == 0, resumed.output
    [job] = compute_jobs(world, wf)  # one job: the resume's, submitted once
    assert f"compute job {job} (held): submission interrupted" in resumed.output
    assert [line for line in world.log(wf) if line.startswith("compute: ")] == [
        f"compute: submitted as {job} (held): an interrupted submission had left no job in PBS"]
    again = world.cli("stage", "submit", "--resume", wf, "--json")
    assert json.loads(again.stdout) == {"workflow": wf, "done": []}
    assert compute_jobs(world, wf) == [job] and len(world.globus.emu.tasks()) == 1
    assert ids(world, wf)[0] == {"compute": job}
    assert world.workflow(wf).progress["steps"]["compute"]["jobs"] == [job]


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
    compute = world.workflow(wf).progress["steps"]["compute"]
    assert (compute["status"], compute["jobs"]) == ("submitting", [])  # PBS has it, not we
    result = world.cli("recover", wf)
    assert result.exit_code == 0, result.output
    assert f"compute job {lost} (held): submission interrupted" in result.output
    assert compute_jobs(world, wf) == [lost] and ids(world, wf)[0] == {"compute": lost}
    compute = world.workflow(wf).progress["steps"]["compute"]
    assert (compute["status"], compute["n"], compute["jobs"]) == ("held", 1, [lost])
    assert (f"compute: job {lost} (held) adopted: submission interrupted, PBS has it (not "
            "submitted again)") in world.log(wf)
    assert workflow_jobs(world, wf) == [lost]  # cleanup is not submitted up front
    assert len(world.globus.emu.tasks()) == 1


def test_a_crash_after_the_transfer_is_resumed_without_a_second_transfer(
        world: Staging) -> None:
    wf = crash_submit(world, "workflow-after-transfer")
    [task] = world.globus.emu.tasks()
    stage_in = world.workflow(wf).progress["steps"]["stage-in"]
    assert (stage_in["status"], stage_in["tasks"]) == ("submitting", [])  # Globus has it
    assert compute_jobs(world, wf) == []  # the crash came before compute's qsub
    result = world.cli("stage", "submit", "--resume", wf)
    assert result.exit_code == 0, result.output
    assert f"stage-in task {task['task_id']} started (attempt 1: start interrupted)" in \
        result.output
    jobs, tasks = ids(world, wf)
    assert tasks == {"stage-in": task["task_id"]}
    assert world.workflow(wf).progress["steps"]["stage-in"]["tasks"] == [task["task_id"]]
    assert len(world.globus.emu.tasks()) == 1  # the same task, found by its submission id
    assert compute_jobs(world, wf) == [jobs["compute"]]


def test_history_shows_the_step_log_and_status_lists_workflows(world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    world.cycle_until(lambda: world.workflow(wf).step == "done")
    shown = world.cli("history", wf)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == (f"Workflow {wf} (compute), now done: 3 of 3 steps succeeded; "
                        f"in {world.run_dir}")
    jobs, tasks = ids(world, wf)
    table = [line.split()[:4] for line in lines[2:6]]
    assert table == [["stage-in", "transfer", "succeeded", "1"],
                     ["compute", "job", "succeeded", "1"],
                     ["stage-out", "transfer", "succeeded", "1"],
                     ["cleanup", "job", "not", "needed"]]  # never submitted: nothing failed
    log = [line.split(None, 3)[3].split(None, 1) for line in lines[6:]]  # [step, text]
    by_step = {step: [text for head, text in log if head == step]
               for step in ("workflow", "stage-in", "compute", "stage-out")}
    assert by_step == {  # each step's lines in order (steps interleave as they happened)
        "workflow": [f"workflow {wf} recorded (compute): steps stage-in, compute, stage-out",
                     "done: every step succeeded",
                     f"mailed me@example.org: [watcher] {wf} (compute): done"],
        "stage-in": [f"started: Globus task {tasks['stage-in']}",
                     f"task {tasks['stage-in']} succeeded (1 file(s), 14 bytes)"],
        "compute": [f"submitted as {jobs['compute']} (held)",
                    f"job {jobs['compute']} released",
                    f"job {jobs['compute']} finished (exit 0)"],
        "stage-out": [f"started: Globus task {tasks['stage-out']}",
                      f"task {tasks['stage-out']} succeeded (1 file(s), 14 bytes)"]}
    assert len(log) == 10 and log[0][0] == "workflow" and log[-2:] == [
        ["workflow", "done: every step succeeded"],
        ["workflow", f"mailed me@example.org: [watcher] {wf} (compute): done"]]
    assert world.subjects() == [f"[watcher] {wf} (compute): done"]  # one mail
    assert workflow_jobs(world, wf) == [jobs["compute"]]  # one job: no cleanup
    as_json = json.loads(world.cli("history", wf, "--json").stdout)
    assert set(as_json) == {"workflow", "name", "state", "steps", "log"}
    assert (as_json["workflow"], as_json["state"]) == (wf, "done")
    missing = world.cli("history", "wf-000000")
    assert missing.exit_code == 1 and "no workflow 'wf-000000'" in missing.output
    status = world.cli("status", "--json")
    [row] = json.loads(status.stdout)["workflows"]
    assert (row["id"], row["step"], row["jobs"], row["tasks"]) == (wf, "done", jobs, tasks)
    assert Path(world.run_dir, "out", "result.txt").exists()
