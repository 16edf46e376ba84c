"""Expectations judged against made-up facts: each one passes on the facts it promises and
says what was seen instead when they differ."""

from __future__ import annotations

from dataclasses import replace

import pytest

from watcher.demo import checks as c
from watcher.demo.facts import Email, Facts, Transfer, job_state, observed
from watcher.demo.scenarios import HELD_UNTIL, SCENARIOS, STAGED_IN

# Scenario A as the engine logs it (`<step> <text>`): compute submitted held, released once the
# stage-in is in; one job (the cleanup runs on failure only).
DONE = Facts(
    workflow="wf-aaaaaa", step="done",
    log=(("workflow", "workflow wf-aaaaaa recorded (A-happy-path): steps stage-in, compute, "
                      "stage-out"),
         ("stage-in", "started: Globus task t1"),
         ("compute", "submitted as 1.pbs-sim (held)"),
         ("stage-in", "task t1 succeeded (1 file(s), 4000 bytes)"),
         ("compute", "job 1.pbs-sim released"),
         ("compute", "job 1.pbs-sim finished (exit 0)"),
         ("stage-out", "started: Globus task t2"),
         ("stage-out", "task t2 succeeded (1 file(s), 29 bytes)"),
         ("workflow", "done: every step succeeded"),
         ("workflow", "mailed you@example.org: [watcher] wf-aaaaaa (A-happy-path): done")),
    emails=(Email("you@example.org", "[watcher] wf-aaaaaa (A-happy-path): done", "ok"),),
    jobs={"compute": "exit 0"}, pbs_jobs=1,
    transfers=(Transfer("t1", "stage-in", "SUCCEEDED", "watcher wf-aaaaaa stage-in"),
               Transfer("t2", "stage-out", "SUCCEEDED", "watcher wf-aaaaaa stage-out")),
    output_arrived=True, compute_ran=True, cleanup_ran=False)
A, B, D = SCENARIOS[0], SCENARIOS[1], SCENARIOS[3]
RELEASED = 4  # DONE.log's "compute job 1.pbs-sim released"


def test_scenario_a_accepts_a_workflow_that_did_everything_right() -> None:
    assert c.failures(A.checks, DONE) == []


@pytest.mark.parametrize(("change", "problem"), [
    ({"step": "running"}, "expected ends done, but it is at step 'running'"),
    ({"jobs": {"compute": "exit 0", "cleanup": "exit 0"}, "pbs_jobs": 2},
     "expected no cleanup job (it runs on failure only), but PBS lists 2 job(s) of the "
     "workflow"),
    ({"emails": DONE.emails * 2}, "expected 1 email: done, but got 2: "),
    ({"emails": ()}, "expected 1 email: done, but got 0: none"),
    ({"output_arrived": False}, "expected output in lab:/A/results/, but it did not happen"),
    ({"log": (*DONE.log[:3], DONE.log[RELEASED], DONE.log[3], *DONE.log[RELEASED + 1:])},
     "expected compute held until the stage-in is in, but 'compute job … (released|running|"
     "finished)' came first"),
    ({"log": (*DONE.log[:5], *DONE.log[6:])},  # no exit 0 line
     "expected stage-out after compute's exit 0, but the step log has no 'compute job … "
     "finished (exit 0)' line"),
])
def test_scenario_a_says_which_expectation_broke(change: dict, problem: str) -> None:
    [found] = c.failures(A.checks, replace(DONE, **change))
    assert found.startswith(problem)


def test_a_line_is_matched_with_its_step_as_the_engine_heads_it() -> None:
    # Compute's news under another step's header is not compute's news.
    elsewhere = replace(DONE, log=tuple(("stage-out", text) if step == "compute" else
                                        (step, text) for step, text in DONE.log))
    assert c.failures(A.checks, elsewhere) == [
        "expected compute held until the stage-in is in, but the step log has no 'compute job "
        "… (released|running|finished)' line",
        "expected stage-out after compute's exit 0, but the step log has no 'compute job … "
        "finished (exit 0)' line"]


def test_scenario_b_wants_the_failure_mailed_and_cleanup_run() -> None:
    failed = replace(
        DONE, step="failed",
        log=(DONE.log[0], DONE.log[1], DONE.log[2],
             ("stage-in", "task t1 failed: PERMISSION_DENIED: no write access to /B/run/in/"),
             ("compute", "skipped: stage-in did not succeed; job 1.pbs-sim deleted"),
             ("stage-out", "skipped: compute did not succeed"),
             ("workflow", "failed: stage-in: task t1 failed: PERMISSION_DENIED: no write "
                          "access to /B/run/in/; running on_failure"),
             ("cleanup", "submitted as 2.pbs-sim"),
             ("cleanup", "job 2.pbs-sim finished (exit 0)"),
             ("workflow", "on_failure finished; the workflow failed")),
        emails=(Email("you@example.org", "[watcher] wf-aaaaaa (B-stage-in-fails): failed at "
                      "stage-in", "stage-in: task t1 failed: PERMISSION_DENIED: no write "
                      "access to /B/run/in/"),),
        jobs={"compute": "deleted", "cleanup": "exit 0"}, pbs_jobs=2,
        transfers=(Transfer("t1", "stage-in", "FAILED", "watcher wf-aaaaaa stage-in"),),
        output_arrived=False, compute_ran=False, cleanup_ran=True)
    assert c.failures(B.checks, failed) == []
    old_subject = Email("you@example.org", "[watcher] wf-aaaaaa (B): stage-in failed",
                        failed.emails[0].body)
    assert c.failures(B.checks, replace(failed, emails=(old_subject,))) == [
        "expected 1 email: failed at stage-in, but got 1: [watcher] wf-aaaaaa (B): stage-in "
        "failed"]


def test_scenario_d_wants_the_one_held_job_resubmitted_while_the_stage_in_runs() -> None:
    lost = replace(DONE, log=(
        *DONE.log[:3],
        ("compute", "job 1.pbs-sim vanished from PBS"),
        ("compute", "submitted again as 3.pbs-sim (held): job 1.pbs-sim is gone from PBS"),
        DONE.log[3],  # the stage-in succeeded
        ("compute", "job 3.pbs-sim released"),
        ("compute", "job 3.pbs-sim finished (exit 0)"),
        *DONE.log[6:]))
    assert c.failures(D.checks, lost) == []
    twice = replace(lost, log=(*lost.log[:5], *lost.log[3:]), pbs_jobs=2)
    assert c.failures(D.checks, twice) == [
        "expected the held compute job vanishes, but the step log has 2 'vanished from PBS' "
        "line(s)",
        "expected compute resubmitted, but the step log has 2 'submitted again as ….*: job … "
        "(is gone from PBS|was killed)' line(s)",
        "expected no second job, but PBS lists 2 job(s) of the workflow"]
    late = replace(lost, log=(*lost.log[:3], lost.log[5], *lost.log[3:5], *lost.log[6:]))
    assert c.failures(D.checks, late) == [
        "expected while the stage-in runs, but 'stage-in task … succeeded' came first"]


def test_order_in_the_step_log_and_a_missing_line_are_told_apart() -> None:
    check = c.before(STAGED_IN, HELD_UNTIL, "compute waits")
    assert check.failure(DONE) is None
    assert check.failure(replace(DONE, log=DONE.log[:3] + DONE.log[4:])) == (
        "expected compute waits, but the step log has no 'stage-in task … succeeded' line")


def test_counts_of_lines_transfers_and_pbs_jobs() -> None:
    assert c.transfers("stage-in", 1, "one").failure(DONE) is None
    assert c.transfers("stage-out", 0, "none").failure(DONE) == (
        "expected none, but Globus has 1 stage-out transfer(s)")
    assert c.pbs_jobs(2, "two").failure(replace(DONE, pbs_jobs=3)) == (
        "expected two, but PBS lists 3 job(s) of the workflow")
    assert c.log_count("vanished", 2, "both").failure(DONE) == (
        "expected both, but the step log has 0 'vanished' line(s)")


def test_emails_must_come_in_the_stated_order() -> None:
    reauth = Email("you@example.org", "[watcher] wf-aaaaaa (C): Globus needs you to "
                   "re-authenticate", "run `watcher login`")
    check = c.emails("re-authenticate", ": done")
    assert check.failure(replace(DONE, emails=(reauth, DONE.emails[0]))) is None
    assert check.failure(replace(DONE, emails=(DONE.emails[0], reauth))) is not None
    assert c.first_email_says("watcher login").failure(replace(DONE, emails=(reauth,))) is None
    assert c.first_email_says("watcher login").failure(DONE) == (
        "expected it says 'watcher login', but the first email does not say it")


def test_a_job_record_in_a_word() -> None:
    assert job_state(None) == "gone"
    assert job_state({"job_state": "H"}) == "held"
    assert job_state({"job_state": "F"}) == "deleted"
    assert job_state({"job_state": "F", "Exit_status": -29}) == "exit -29"


def test_observed_tells_what_happened_whatever_was_expected() -> None:
    assert observed(DONE) == ("done; compute exit 0; stage-in succeeded, stage-out succeeded; "
                              "1 email(s); output arrived")
    lost = replace(DONE, log=(
        *DONE.log,
        ("compute", "job 1.pbs-sim vanished from PBS"),
        ("compute", "submitted again as 3.pbs-sim (held): job 1.pbs-sim is gone from PBS"),
        ("stage-in", "task t1 waits for credentials (AUTH): run `watcher login` or renew the "
                     "endpoint's consent")))
    assert observed(lost).startswith("done; 1 job(s) vanished, 1 resubmitted; compute exit 0")
    assert "credentials waited for, stage-in succeeded" in observed(lost)
    failed = replace(DONE, step="failed", jobs={"compute": "deleted", "cleanup": "exit 0"})
    assert observed(failed).startswith("failed; compute deleted, cleanup exit 0; ")


def test_every_scenario_states_what_it_expects() -> None:
    assert [s.letter for s in SCENARIOS] == list("ABCDEFGH")
    assert all(s.checks and s.expected for s in SCENARIOS)
    assert [s.letter for s in SCENARIOS if s.first] == ["D"]
