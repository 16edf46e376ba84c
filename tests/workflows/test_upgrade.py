"""A workflow recorded by the watcher before the one engine is read as its graph (pure;
the store's side: tests/store/test_workflow_upgrade.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from watcher.workflows.upgrade import upgrade

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def loc(endpoint: str, path: str) -> dict[str, str]:
    return {"endpoint": endpoint, "path": path}


# What the earlier watcher's `WorkflowSpec.to_record()` stored.
OLD_SPEC: dict[str, Any] = {
    "name": "run42", "script": "c.sh", "qsub_args": ["-l", "walltime=01:00:00"],
    "stage_in": [{"from": loc("aaaa", "/in/"), "to": loc("bbbb", "/run/in/")}],
    "stage_in_task": None,
    "stage_out": [{"from": loc("bbbb", "/run/out/"), "to": loc("aaaa", "/res/")}],
    "cleanup": "clean.sh", "email": "a@b.org", "walltime_retries": 1,
    "stage_in_transfer": {"source_endpoint": "aaaa", "destination_endpoint": "bbbb",
                          "items": [{"source": "/in/", "destination": "/run/in/",
                                     "recursive": True}]},
    "stage_out_transfer": None}
IN_FLIGHT: dict[str, Any] = {
    "compute": {"status": "held", "n": 2, "jobs": ["1.s", "3.s"], "walltime_retries": 0},
    "cleanup": {"status": "held", "n": 1, "jobs": ["2.s"]},
    "stage_in": {"status": "active", "task": "T-in"}}


def test_an_old_record_in_flight_keeps_its_ids_and_counts() -> None:
    state, spec, progress = upgrade("wf-abc123", "stage-in", OLD_SPEC, IN_FLIGHT)
    assert state == "running"
    assert spec["graph"] and spec["email"] == "a@b.org"
    steps = progress["steps"]
    assert steps["stage-in"] == {"kind": "transfer", "status": "active", "attempt": 1,
                                 "tasks": ["T-in"]}
    assert steps["compute"] == {"kind": "job", "status": "held", "n": 2,
                                "jobs": ["1.s", "3.s"]}
    assert steps["stage-out"]["status"] == "pending"
    assert progress["on_failure"]["cleanup"]["jobs"] == ["2.s"]
    assert progress["mailed"] == []


def test_old_endings_map_to_the_graph_states_and_their_mail_counts_as_sent() -> None:
    done = {**IN_FLIGHT, "compute": {"status": "done", "n": 1, "jobs": ["1.s"]},
            "stage_in": {"status": "succeeded", "task": "T-in"},
            "stage_out": {"status": "succeeded", "task": "T-out"}}
    state, _spec, progress = upgrade("wf-abc123", "done", OLD_SPEC, done)
    assert (state, progress["mailed"]) == ("done", ["done"])
    assert progress["steps"]["compute"]["status"] == "succeeded"
    assert progress["steps"]["stage-out"]["tasks"] == ["T-out"]
    killed = {**IN_FLIGHT, "compute": {"status": "killed", "n": 1, "jobs": ["1.s"],
                                       "walltime_retries": 1}}
    _state, _spec, progress = upgrade("wf-abc123", "running", OLD_SPEC, killed)
    assert progress["steps"]["compute"]["status"] == "retry"
    assert progress["steps"]["compute"]["retries_used"] == {"walltime": 1}
    state, _spec, progress = upgrade("wf-abc123", "cleanup", OLD_SPEC, IN_FLIGHT)
    assert (state, progress["mailed"]) == ("failing", ["failed"])


def test_an_interrupted_old_stage_in_is_asked_again_under_its_old_key() -> None:
    _state, _spec, progress = upgrade("wf-abc123", "credentials", OLD_SPEC,
                                      {**IN_FLIGHT, "stage_in": {"status": "submitting"}})
    assert progress["steps"]["stage-in"]["intent_key"] == "workflow:wf-abc123:stage-in"
