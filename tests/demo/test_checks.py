"""Expectations judged against made-up facts: each one passes on the facts it promises and
says what was seen instead when they differ."""

from __future__ import annotations

from dataclasses import replace

import pytest

from watcher.demo import checks as c
from watcher.demo.facts import Email, Facts, Transfer, job_state, observed
from watcher.demo.scenarios import HELD_UNTIL, SCENARIOS

DONE = Facts(
    workflow="wf-aaaaaa", step="done",
    log=(("submitted", "compute submitted as 1.pbs-sim (held)"),
         ("running", "stage-in succeeded (1 file(s), 4000 bytes)"),
         ("stage-out", "compute 1.pbs-sim finished (exit 0)"),
         ("stage-out", "stage-out started: Globus task t2"),
         ("done", "cleanup 2.pbs-sim deleted")),
    emails=(Email("you@example.org", "[watcher] wf-aaaaaa (A-happy-path): done", "ok"),),
    jobs={"compute": "exit 0", "cleanup": "deleted"}, pbs_jobs=2,
    transfers=(Transfer("t1", "stage-in", "SUCCEEDED", "watcher wf-aaaaaa stage-in"),
               Transfer("t2", "stage-out", "SUCCEEDED", "watcher wf-aaaaaa stage-out")),
    output_arrived=True, compute_ran=True, cleanup_ran=False)
A = SCENARIOS[0]


def test_scenario_a_accepts_a_workflow_that_did_everything_right() -> None:
    assert c.failures(A.checks, DONE) == []


@pytest.mark.parametrize(("change", "problem"), [
    ({"step": "stage-out"}, "expected ends done, but it is at step 'stage-out'"),
    ({"jobs": {"compute": "exit 0", "cleanup": "exit 0"}},
     "expected cleanup job deleted, but PBS says exit 0"),
    ({"emails": DONE.emails * 2}, "expected 1 email: done, but got 2: "),
    ({"emails": ()}, "expected 1 email: done, but got 0: none"),
    ({"output_arrived": False}, "expected output in lab:/A/results/, but it did not happen"),
    ({"log": (DONE.log[0], DONE.log[2], DONE.log[1], *DONE.log[3:])},
     "expected compute held until the stage-in is in, but 'compute … (released|running|"),
])
def test_scenario_a_says_which_expectation_broke(change: dict, problem: str) -> None:
    [found] = c.failures(A.checks, replace(DONE, **change))
    assert found.startswith(problem)


def test_order_in_the_step_log_and_a_missing_line_are_told_apart() -> None:
    check = c.before("stage-in succeeded", HELD_UNTIL, "compute waits")
    assert check.failure(DONE) is None
    assert check.failure(replace(DONE, log=DONE.log[:1] + DONE.log[2:])) == (
        "expected compute waits, but the step log has no 'stage-in succeeded' line")


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
    assert observed(DONE) == ("done; compute exit 0, cleanup deleted; stage-in succeeded, "
                              "stage-out succeeded; 1 email(s); output arrived")
    lost = replace(DONE, log=(
        *DONE.log,
        ("stage-in", "compute 1.pbs-sim vanished from PBS"),
        ("stage-in", "compute submitted again as 3.pbs-sim (held): job 1.pbs-sim is gone "
                     "from PBS"),
        ("stage-in", "credentials: stage-in task t1 waits for credentials (AUTH)")))
    assert observed(lost).startswith("done; 1 job(s) vanished, 1 resubmitted; compute exit 0")
    assert "credentials waited for, stage-in succeeded" in observed(lost)


def test_every_scenario_states_what_it_expects() -> None:
    assert [s.letter for s in SCENARIOS] == list("ABCDEFGH")
    assert all(s.checks and s.expected for s in SCENARIOS)
    assert [s.letter for s in SCENARIOS if s.first] == ["D"]
