"""How one event moves a workflow along: progress and step-log lines."""

from __future__ import annotations

from datetime import UTC, datetime

from watcher.events import APPEARED, GLOBUS_TASK, PBS_JOB, VANISHED, Event
from watcher.workflows.react import Situation, react

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def wf(step: str = "running", cleanup: bool = True, stage_out: bool = True,
       used: int = 0) -> Situation:
    return Situation(step, {"compute": {"walltime_retries": used}}, cleanup, stage_out, 1)


def job(before: str | None, after: str | None, exit_status: int | None = None,
        change: str = "changed") -> Event:
    prev = None if before is None else {"state": before}
    cur = None if after is None else {"state": after, "exit_status": exit_status}
    return Event(PBS_JOB, "1.srv", AT, change, prev, cur)


def task(before: str | None, after: str, **attrs: object) -> Event:
    prev = None if before is None else {"status": before}
    return Event(GLOBUS_TASK, "T1", AT, APPEARED if before is None else "changed", prev,
                 {"status": after, **attrs})


def test_compute_running_then_finished_leads_to_stage_out_or_done() -> None:
    assert react(wf("stage-in"), "compute", job("Q", "R")).lines == [
        ("running", "compute 1.srv running")]
    assert react(wf(), "compute", job("R", "F", 0)).lines == [
        ("stage-out", "compute 1.srv finished (exit 0)")]
    assert react(wf(stage_out=False), "compute", job("R", "F", 0)).lines[0][0] == "done"


def test_a_failed_compute_goes_to_cleanup_or_straight_to_failed() -> None:
    out = react(wf(), "compute", job("R", "F", 3))
    assert out.notes == {"compute": {"status": "failed"}}
    assert out.lines == [("cleanup", "compute 1.srv failed (exit 3)")]
    assert react(wf(cleanup=False), "compute", job("R", "F", 3)).lines[0][0] == "failed"


def test_a_walltime_kill_is_killed_while_retries_are_left_then_failed() -> None:
    assert react(wf(), "compute", job("R", "F", -29)).notes["compute"]["status"] == "killed"
    last = react(wf(used=1), "compute", job("R", "F", -29))
    assert last.notes["compute"]["status"] == "failed"
    assert "no retries left" in last.lines[0][1]


def test_deleted_vanished_and_unchanged_jobs() -> None:
    assert react(wf(), "compute", job("H", "F", None)).notes == {
        "compute": {"status": "deleted"}}
    gone = react(wf("stage-in"), "cleanup", job("H", None, change=VANISHED))
    assert gone.notes == {"cleanup": {"status": "lost"}}
    assert gone.lines == [("stage-in", "cleanup 1.srv vanished from PBS")]
    assert react(wf(), "compute", job("R", "R")).lines == []


def test_stage_in_inactive_resumed_succeeded() -> None:
    inactive = react(wf("stage-in"), "stage-in", task("ACTIVE", "INACTIVE",
                                                      nice_status="CREDENTIALS_EXPIRED"))
    assert inactive.notes["stage_in"]["status"] == "inactive"
    assert inactive.lines[0][0] == "credentials"
    assert "watcher login" in inactive.lines[0][1]
    assert react(wf("credentials"), "stage-in", task("INACTIVE", "ACTIVE")).lines == [
        ("stage-in", "stage-in resumed")]
    done = react(wf("stage-in"), "stage-in", task("ACTIVE", "SUCCEEDED", files_transferred=2,
                                                  bytes_transferred=10))
    assert done.lines == [("running", "stage-in succeeded (2 file(s), 10 bytes)")]


def test_a_failed_stage_in_says_why() -> None:
    out = react(wf("stage-in"), "stage-in", task("ACTIVE", "FAILED", fatal_error={
        "code": "PERMISSION_DENIED", "description": "no write access"}))
    assert out.lines == [("cleanup", "stage-in failed: PERMISSION_DENIED: no write access")]


def test_a_stage_out_seen_first_as_succeeded_is_started_and_done() -> None:
    out = react(wf("stage-out"), "stage-out", task(None, "SUCCEEDED"))
    assert [step for step, _ in out.lines] == ["stage-out", "done"]
