"""The graph planner (pure): what a record's progress asks for next."""

from __future__ import annotations

from typing import Any

from watcher.workflows.graph_plan import Finish, Release, Skip, Start, Submit, advance

SPEC: dict[str, Any] = {"steps": {
    "a": {"kind": "transfer", "after": [], "retries": 1},
    "b": {"kind": "transfer", "after": []},
    "j": {"kind": "job", "after": ["a", "b"]},
    "k": {"kind": "job", "after": ["j"]},
    "out": {"kind": "transfer", "after": ["k"]}},
    "on_failure": {"on_failure": {"kind": "job", "after": []}}}


def progress(**statuses: Any) -> dict[str, Any]:
    steps = {name: {"kind": step["kind"], "status": "pending", "n": 0, "attempt": 0,
                    "jobs": [], "tasks": []} for name, step in SPEC["steps"].items()}
    for name, changes in statuses.items():
        steps[name].update(changes)
    return {"steps": steps, "on_failure": {"on_failure": {"kind": "job", "status": "pending",
                                                          "n": 0, "jobs": []}}}


def test_a_fresh_graph_submits_every_job_held_and_starts_the_roots() -> None:
    moves = advance("wf-1", "submitted", SPEC, progress()).moves
    assert moves == [Start("steps", "a", 1), Start("steps", "b", 1),
                     Submit("steps", "j", 1, hold=True), Submit("steps", "k", 1, hold=True)]


def test_a_job_is_released_only_when_all_its_inputs_succeeded() -> None:
    half = progress(a={"status": "succeeded"}, b={"status": "active"},
                    j={"status": "held", "n": 1, "jobs": ["1.s"]},
                    k={"status": "held", "n": 1, "jobs": ["2.s"]})
    assert advance("wf-1", "running", SPEC, half).moves == []
    both = progress(a={"status": "succeeded"}, b={"status": "succeeded"},
                    j={"status": "held", "n": 1, "jobs": ["1.s"]},
                    k={"status": "held", "n": 1, "jobs": ["2.s"]})
    assert advance("wf-1", "running", SPEC, both).moves == [Release("steps", "j", "1.s")]


def test_a_transfer_to_retry_is_a_new_attempt() -> None:
    again = progress(a={"status": "retry", "attempt": 1, "reason": "task T failed: X"})
    moves = advance("wf-1", "running", SPEC, again).moves
    assert moves[0] == Start("steps", "a", 2, "task T failed: X")


def test_a_failure_skips_the_dependants_deletes_their_held_jobs_then_runs_on_failure() -> None:
    failed = progress(a={"status": "failed"}, b={"status": "succeeded"},
                      j={"status": "held", "n": 1, "jobs": ["1.s"]},
                      k={"status": "held", "n": 1, "jobs": ["2.s"]})
    moves = advance("wf-1", "running", SPEC, failed).moves
    assert moves == [Skip("steps", "j", "a did not succeed", job="1.s"),
                     Skip("steps", "k", "j did not succeed", job="2.s"),
                     Skip("steps", "out", "k did not succeed"),
                     Finish("failing"), Submit("on_failure", "on_failure", 1, hold=False)]


def test_everything_succeeded_is_done_and_a_final_state_plans_nothing() -> None:
    done = progress(**{name: {"status": "succeeded"} for name in SPEC["steps"]})
    assert advance("wf-1", "running", SPEC, done).moves == [Finish("done")]
    assert advance("wf-1", "cancelled", SPEC, progress()).moves == []
