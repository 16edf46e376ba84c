"""A workflow recorded by the watcher before the one engine goes on where it stood: the
store's migration drops the old id columns, and the record is read as its graph."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from watcher.store.db import open_store
from watcher.store.facts import get_fact
from watcher.workflows import record
from watcher.workflows.graph_plan import Release, advance
from watcher.workflows.upgrade import upgrade

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
GRAFT = "5b0e2d1c-6d04-11e5-ba46-22000b92c6ec"


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


def _old_store(path: Path, spec: dict[str, Any], progress: dict[str, Any], step: str) -> str:
    """A store as the earlier watcher left it: schema version 1, the id columns, one row."""
    url = f"sqlite:///{path}"
    open_store(url).close()  # today's tables, then made into yesterday's
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 1"))
        for name in ("compute_job", "cleanup_job", "stage_in_task", "stage_out_task"):
            conn.execute(sa.text(f"ALTER TABLE workflow ADD COLUMN {name} VARCHAR"))
            conn.execute(sa.text(f"CREATE INDEX ix_workflow_{name} ON workflow ({name})"))
        conn.execute(sa.text(
            "INSERT INTO workflow (id, name, created_at, updated_at, workdir, spec, step, "
            "progress, compute_job, stage_in_task) VALUES ('wf-abc123', 'run42', :at, :at, "
            "'/w', :spec, :step, :progress, '3.s', 'T-in')"),
            {"at": AT.isoformat(), "spec": json.dumps(spec), "step": step,
             "progress": json.dumps(progress)})
    engine.dispose()
    return url


def test_a_store_of_the_earlier_watcher_is_migrated_and_its_workflow_goes_on(
        tmp_path: Path) -> None:
    url = _old_store(tmp_path / "w.db", OLD_SPEC,
                     {**IN_FLIGHT, "stage_in": {"status": "succeeded", "task": "T-in"}},
                     "running")
    store = open_store(url)
    try:
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("workflow")}
        assert "compute_job" not in columns and "stage_in_task" not in columns
        with store.session(write=False) as session:
            seen = record.get(session, "wf-abc123")
            assert seen is not None and seen.spec["graph"]
        with store.session(write=False) as session:  # a read does not write the upgrade
            raw = session.exec(sa.text("SELECT spec FROM workflow")).one()[0]  # type: ignore
            assert '"graph"' not in raw
        with store.session() as session:
            wf = record.get(session, "wf-abc123")
            assert wf is not None
            moves = advance(wf.id, wf.step, wf.spec, wf.progress).moves
        assert moves == [Release("steps", "compute", "3.s")]
        with store.session(write=False) as session:
            raw = session.exec(sa.text("SELECT spec FROM workflow")).one()[0]  # type: ignore
            assert '"graph"' in raw
            assert [line.text for line in record.lines(session, "wf-abc123")][-1].startswith(
                "recorded by an earlier watcher")
    finally:
        store.close()


def test_a_grafted_old_stage_in_is_found_by_its_task(tmp_path: Path) -> None:
    spec = {**OLD_SPEC, "stage_in": [], "stage_in_task": GRAFT, "stage_in_transfer": None}
    url = _old_store(tmp_path / "w.db", spec,
                     {**IN_FLIGHT, "stage_in": {"status": "active", "task": GRAFT}},
                     "stage-in")
    store = open_store(url)
    try:
        with store.session() as session:
            wf = record.get(session, "wf-abc123")
            assert wf is not None
            assert wf.spec["steps"]["stage-in"]["transfer"] == {"task": GRAFT}
        with store.session(write=False) as session:
            assert get_fact(session, record.grafted_key(GRAFT)) == {
                "workflow": "wf-abc123", "step": "stage-in"}
    finally:
        store.close()
