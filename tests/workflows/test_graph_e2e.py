"""Graph workflows end to end: `watcher stage submit -f` with `steps:`, the staging rules,
real jobs on the PBS simulator, real transfers on the Globus emulator (files really move),
mail in an SMTP sink."""

from __future__ import annotations

import time

from tests.workflows._graph import graph, scripts, status, steps, submit, third_endpoint
from tests.workflows._staging import FIXTURES, Staging
from watcher.workflows import record

emu, globus, sim, make_service, sink, settings, world = FIXTURES

SIM_BODY = "mkdir -p out\ntr a-z A-Z < mid.txt > out/result.txt\n"


def test_a_graph_runs_to_completion_with_files_moving_and_one_mail(world: Staging) -> None:
    ep3, root = third_endpoint(world)
    scripts(world)
    wf = submit(world, graph(world, ep3))
    record = steps(world, wf)
    # Every job step was submitted at once, held while its inputs move.
    for name in ("prep", "sim"):
        [job] = record[name]["jobs"]
        assert world.job_state(job) == "H"
    assert len(world.globus.emu.tasks()) == 2  # the two inputs, nothing else yet
    world.cycle_until(lambda: world.workflow(wf).step == "done" and len(world.sink.messages) == 1,
                      timeout=40)
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == \
        "HELLO STAGING\nAND MORE\n"
    assert (root / "shared" / "result.txt").exists()
    assert set(status(world, wf).values()) == {"succeeded"}
    # When each step ended, as PBS (obittime) and Globus (completion_time) say.
    final = steps(world, wf)
    assert all(entry.get("ended_at") for entry in final.values()), final
    assert final["prep"]["started_at"] and final["sim"]["started_at"]
    assert world.subjects() == [f"[watcher] {wf} (run-42): done"]
    assert len(world.globus.emu.tasks()) == 4
    assert not (world.run_dir / "cleanup-ran").exists()
    lines = world.log(wf)
    assert lines.index("prep: job {} released".format(record["prep"]["jobs"][0])) > max(
        i for i, line in enumerate(lines) if line.startswith(("in-a: task", "in-b: task"))
        and "succeeded" in line)


def test_a_failed_job_skips_its_dependants_runs_on_failure_and_mails_once(
        world: Staging) -> None:
    ep3, _ = third_endpoint(world)
    scripts(world)
    wf = submit(world, graph(world, ep3, steps={"prep": {"job": "fail.sh"}}))
    sim_job = steps(world, wf)["sim"]["jobs"][0]
    world.cycle_until(lambda: world.workflow(wf).step == "failed"
                      and len(world.sink.messages) == 1, timeout=40)
    world.cycle_until(lambda: (world.run_dir / "cleanup-ran").exists())
    assert status(world, wf) == {"in-a": "succeeded", "in-b": "succeeded", "prep": "failed",
                                 "sim": "skipped", "out": "skipped", "share": "skipped"}
    assert world.job_state(sim_job) == "F"  # the held dependant was deleted, never ran
    assert not (world.run_dir / "out").exists()
    [mail] = world.sink.messages
    assert mail.message["Subject"] == f"[watcher] {wf} (run-42): failed at prep"
    body = mail.message.get_content()
    assert "(exit 3)" in body and "sim, out, share" in body
    assert len(world.globus.emu.tasks()) == 2  # no output was staged
    world.cycle_until(lambda: True)
    assert len(world.sink.messages) == 1


def test_a_failed_transfer_is_started_again_as_a_new_task_with_the_same_items(
        world: Staging) -> None:
    ep3, root = third_endpoint(world)
    scripts(world)
    world.globus.emu.pause_endpoint(ep3)  # in-b waits: it can be failed while it runs
    wf = submit(world, graph(world, ep3, steps={"in-b": {"retries": 1}}))
    [first] = steps(world, wf)["in-b"]["tasks"]
    world.globus.emu.fail_task(first, "ENDPOINT_ERROR", "the disk went away")
    world.globus.emu.resume_endpoint(ep3)
    world.cycle_until(lambda: world.workflow(wf).step == "done", timeout=40)
    tasks = steps(world, wf)["in-b"]["tasks"]
    assert len(tasks) == 2 and tasks[0] == first
    again = world.globus.emu.task(tasks[1])
    assert again["source_endpoint_id"] == ep3 and again["status"] == "SUCCEEDED"
    assert (root / "shared" / "result.txt").exists()
    assert any("failed: ENDPOINT_ERROR: the disk went away; starting it again" in line
               for line in world.log(wf))


def live_jobs(world: Staging, wf: str) -> dict[str, str]:
    jobs = world.sim.qstat_json().get("Jobs", {})
    return {job_id: job["Variable_List"]["WATCHER_STEP"] for job_id, job in jobs.items()
            if job["Variable_List"].get("WATCHER_WORKFLOW") == wf and job["job_state"] != "F"}


def test_a_lost_queue_resubmits_only_the_job_steps_and_keeps_the_transfers(
        world: Staging) -> None:
    ep3, root = third_endpoint(world)
    scripts(world)
    world.globus.emu.pause_endpoint(ep3)  # the inputs cannot finish before the wipe
    wf = submit(world, graph(world, ep3))
    before = steps(world, wf)
    world.cycle_until(lambda: True)  # the watcher has seen both held jobs
    assert world.sim.wipe() == 2
    world.cycle_until(lambda: len(live_jobs(world, wf)) == 2)
    after = steps(world, wf)
    for name in ("prep", "sim"):
        assert after[name]["jobs"][0] == before[name]["jobs"][0]
        assert len(after[name]["jobs"]) == 2
        assert world.job_state(after[name]["jobs"][-1]) == "H"  # inputs still moving
    assert sorted(live_jobs(world, wf).values()) == ["prep", "sim"]
    world.globus.emu.resume_endpoint(ep3)
    world.cycle_until(lambda: world.workflow(wf).step == "done", timeout=40)
    assert len(world.globus.emu.tasks()) == 4  # no transfer twice
    assert (root / "shared" / "result.txt").exists()
    final = steps(world, wf)
    assert [len(final[name]["jobs"]) for name in ("prep", "sim")] == [2, 2]


def test_cancel_deletes_the_jobs_cancels_the_transfers_and_records_why(world: Staging) -> None:
    ep3, _ = third_endpoint(world)
    scripts(world)
    world.globus.emu.pause_endpoint(ep3)
    wf = submit(world, graph(world, ep3))
    world.cycle_until(lambda: status(world, wf)["in-a"] == "succeeded")
    record = steps(world, wf)
    result = world.cli("stage", "cancel", wf, "--reason", "wrong inputs")
    assert result.exit_code == 0, result.output
    for name in ("prep", "sim"):
        assert world.job_state(record[name]["jobs"][0]) == "F"
    assert world.globus.emu.task(record["in-b"]["tasks"][0])["status"] == "FAILED"
    assert status(world, wf) == {"in-a": "succeeded", "in-b": "cancelled", "prep": "cancelled",
                                 "sim": "cancelled", "out": "cancelled", "share": "cancelled"}
    assert world.workflow(wf).step == "cancelled"
    assert any("cancelled: wrong inputs" in line for line in world.log(wf))
    world.globus.emu.resume_endpoint(ep3)
    world.cycle_until(lambda: True)
    world.cycle_until(lambda: True)
    assert world.workflow(wf).step == "cancelled" and not world.sink.messages
    assert len(world.globus.emu.tasks()) == 2


def test_retry_after_a_failure_runs_only_what_did_not_succeed(world: Staging) -> None:
    ep3, root = third_endpoint(world)
    scripts(world)
    (world.run_dir / "flaky.sh").write_text(
        "#!/bin/sh\ncd \"$PBS_O_WORKDIR\"\nif [ ! -e fixed ]; then echo broken >&2; exit 4; fi\n"
        + SIM_BODY)
    (world.run_dir / "flaky.sh").chmod(0o755)
    wf = submit(world, graph(world, ep3, steps={"sim": {"job": "flaky.sh"}}))
    world.cycle_until(lambda: world.workflow(wf).step == "failed"
                      and len(world.sink.messages) == 1, timeout=40)
    first = steps(world, wf)
    assert status(world, wf)["sim"] == "failed" and status(world, wf)["prep"] == "succeeded"
    refused = world.cli("stage", "retry", wf, "perp")
    assert refused.exit_code == 1 and "no step 'perp'" in refused.output
    (world.run_dir / "fixed").touch()
    result = world.cli("stage", "retry", wf)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"workflow {wf}: running again sim, out, share"
    world.cycle_until(lambda: world.workflow(wf).step == "done"
                      and len(world.sink.messages) == 2, timeout=40)
    final = steps(world, wf)
    for name in ("in-a", "in-b", "prep"):  # reused, not run again
        assert final[name].get("jobs", final[name].get("tasks")) == \
            first[name].get("jobs", first[name].get("tasks"))
    assert len(final["sim"]["jobs"]) == 2
    assert len(world.globus.emu.tasks()) == 4
    assert world.subjects()[1] == f"[watcher] {wf} (run-42): done"
    assert (root / "shared" / "result.txt").exists()
    logs = world.cli("stage", "logs", wf)
    assert logs.exit_code == 0, logs.output
    text = logs.stdout
    assert text.index("=== in-a (transfer): succeeded ===") < text.index(
        "=== prep (job): succeeded ===") < text.index("=== sim (job): succeeded ===")
    assert "stderr" in text and "broken" in text  # the first sim job's .e file
    assert "Globus task" in text and "SUCCEEDED" in text
    history = world.cli("history", wf)
    assert history.exit_code == 0, history.output
    assert "6 of 6 steps succeeded" in history.stdout
    assert any(line.split()[:3] == ["sim", "job", "succeeded"]
               for line in history.stdout.splitlines())


SWEEP = """#!/bin/sh
cd "$PBS_O_WORKDIR"
mkdir -p out
[ "$PBS_ARRAY_INDEX" = 2 ] && [ -n "$BREAK" ] && exit 5
echo "part $PBS_ARRAY_INDEX" > out/part$PBS_ARRAY_INDEX.txt
"""


def sweep_graph(world: Staging, ep3: str, *qsub: str) -> dict:
    (world.run_dir / "sweep.sh").write_text(SWEEP)
    (world.run_dir / "sweep.sh").chmod(0o755)
    spec = graph(world, ep3, steps={
        "sweep": {"job": "sweep.sh", "qsub": ["-J", "1-3", *qsub], "after": ["sim"]},
        "out": {"after": ["sweep"]}, "share": {"after": ["sweep"]}})
    return spec


def test_an_array_step_succeeds_when_every_subjob_exited_0(world: Staging) -> None:
    ep3, root = third_endpoint(world)
    scripts(world)
    wf = submit(world, sweep_graph(world, ep3))
    world.cycle_until(lambda: world.workflow(wf).step == "done", timeout=40)
    assert sorted(p.name for p in (root / "shared").iterdir()) == [
        "part1.txt", "part2.txt", "part3.txt", "result.txt"]
    [parent] = steps(world, wf)["sweep"]["jobs"]
    assert parent.split(".")[0].endswith("[]")


def test_a_failed_array_step_names_its_subjobs(world: Staging) -> None:
    ep3, _ = third_endpoint(world)
    scripts(world)
    wf = submit(world, sweep_graph(world, ep3, "-v", "BREAK=1"))
    try:
        world.cycle_until(lambda: world.workflow(wf).step == "failed"
                          and len(world.sink.messages) == 1, timeout=40)
    except AssertionError:
        print(world.workflow(wf).step, steps(world, wf), world.log(wf))
        raise
    entry = steps(world, wf)["sweep"]
    parent = entry["jobs"][0]
    subjob = parent.replace("[]", "[2]")
    assert entry["subjobs"] == [subjob]
    assert f"subjob(s) {subjob} (exit 5) did not exit 0" in entry["reason"]
    assert f"{subjob} (exit 5)" in world.sink.messages[0].message.get_content()
    assert status(world, wf)["out"] == "skipped"


SLOW_ONCE = """#!/bin/sh
cd "$PBS_O_WORKDIR"
if [ ! -e first-try ]; then touch first-try; sleep 30; fi
mkdir -p out
tr a-z A-Z < mid.txt > out/result.txt
"""


def test_a_walltime_kill_of_a_job_step_is_submitted_again_then_the_graph_goes_on(
        world: Staging) -> None:
    ep3, root = third_endpoint(world)
    scripts(world)
    (world.run_dir / "slow.sh").write_text(SLOW_ONCE)
    (world.run_dir / "slow.sh").chmod(0o755)
    wf = submit(world, graph(world, ep3, steps={"sim": {
        "job": "slow.sh", "qsub": ["-l", "walltime=00:00:01"], "retries": {"walltime": 1}}}))
    world.cycle_until(lambda: world.workflow(wf).step == "done", timeout=40)
    jobs = steps(world, wf)["sim"]["jobs"]
    assert len(jobs) == 2
    assert world.sim.qstat_json(jobs[0])["Jobs"][jobs[0]]["Exit_status"] == -29
    assert (root / "shared" / "result.txt").exists()
    assert any("killed by its walltime (exit -29); submitting it again (retry 1 of 1)" in line
               for line in world.log(wf))


SLOW = """#!/bin/sh
cd "$PBS_O_WORKDIR"
sleep 2
mkdir -p out
tr a-z A-Z < mid.txt > out/result.txt
"""


def test_a_walltime_retry_can_ask_for_more_walltime(world: Staging) -> None:
    """A job that needs 2 s under a 1 s walltime: killed, then submitted again asking for
    three times as much (walltime_factor: 3), which is enough."""
    ep3, root = third_endpoint(world)
    scripts(world)
    (world.run_dir / "slow.sh").write_text(SLOW)
    (world.run_dir / "slow.sh").chmod(0o755)
    wf = submit(world, graph(world, ep3, steps={"sim": {
        "job": "slow.sh", "qsub": ["-l", "walltime=00:00:01"],
        "retries": {"walltime": 1, "walltime_factor": 3}}}))
    world.cycle_until(lambda: world.workflow(wf).step == "done", timeout=40)
    first, second = steps(world, wf)["sim"]["jobs"]
    jobs = world.sim.qstat_json(first, second)["Jobs"]
    assert jobs[first]["Exit_status"] == -29
    assert jobs[first]["Resource_List"]["walltime"] == "00:00:01"
    assert (jobs[second]["Exit_status"], jobs[second]["Resource_List"]["walltime"]) == (
        0, "00:00:03")
    assert any(line.endswith("(asking for walltime 00:00:03)") for line in world.log(wf))
    assert (root / "shared" / "result.txt").exists()


def test_a_submission_cut_short_is_made_once_even_with_a_listing_in_hand(
        world: Staging) -> None:
    """A qsub that failed (PBS down mid-retry) leaves the step `submitting`; the next run
    lists PBS once, finds no job with that tag, and submits it: once. (The listing it holds
    predates that job: read again after the submission, it made the job look lost, and the
    step was submitted again and again. The demo's G met it when H's outage took PBS down.)"""
    ep3, _root = third_endpoint(world)
    scripts(world)
    world.globus.emu.pause_endpoint(ep3)  # nothing finishes meanwhile
    wf = submit(world, graph(world, ep3))
    [first] = steps(world, wf)["prep"]["jobs"]
    world.sim.wipe()  # PBS lost it, and the resubmission's qsub "failed" before its record
    with world.service.store.session() as session:
        found = record.get(session, wf)
        assert found is not None
        record.note(session, found, "steps", "prep", status="submitting", n=2)
    result = world.cli("recover", wf)
    assert result.exit_code == 0, result.output
    jobs = steps(world, wf)["prep"]["jobs"]
    assert len(jobs) == 2 and jobs[0] == first
    assert list(live_jobs(world, wf).values()).count("prep") == 1
    world.globus.emu.resume_endpoint(ep3)


def test_a_release_a_killed_run_made_before_its_record_is_not_an_error(world: Staging) -> None:
    """A run released a job and was killed before recording it; the job ran and ended. The
    next run's qrls meets 'Job has finished' (exit 35): that is the release done, not a
    failure, and the job's end (which the tracker sees) moves the step on."""
    ep3, _root = third_endpoint(world)
    scripts(world)
    world.globus.emu.pause_endpoint(ep3)
    wf = submit(world, graph(world, ep3))
    [prep] = steps(world, wf)["prep"]["jobs"]
    with world.service.store.session() as session:  # its inputs in, as the killed run saw
        found = record.get(session, wf)
        assert found is not None
        for name in ("in-a", "in-b"):
            record.note(session, found, "steps", name, status="succeeded")
    assert world.sim.run("qrls", "-h", "u", prep).returncode == 0  # the killed run's qrls
    deadline = time.monotonic() + 20
    while world.job_state(prep) != "F" and time.monotonic() < deadline:  # no watcher polls
        time.sleep(0.2)
    assert world.workflow(wf).progress["steps"]["prep"]["status"] == "held"
    result = world.cli("recover", wf)
    assert result.exit_code == 0, result.output
    assert f"prep job {prep} had been released already and has ended" in result.output
    world.globus.emu.resume_endpoint(ep3)
