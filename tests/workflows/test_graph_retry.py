"""`watcher stage retry` (the record's side): what goes back to pending, and what is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.store.db import Store
from watcher.workflows import record
from watcher.workflows.graph_retry import RetryRefused, reopen
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import as_graph

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
SPEC = as_graph(WorkflowSpec.model_validate({
    "script": "c.sh", "cleanup": "clean.sh",
    "stage_in": [{"from": "aaaa:/in/", "to": "bbbb:/run/in/"}],
    "stage_out": [{"from": "bbbb:/run/out/", "to": "aaaa:/res/"}]}))


@pytest.fixture
def failed(store: Store) -> str:
    """compute failed; its cleanup ran (and may have removed the staged inputs)."""
    with store.session() as session:
        wf = record.create(session, SPEC, "/work", AT)
        for name, changes in {"stage-in": {"status": "succeeded", "attempt": 1,
                                           "tasks": ["T1"]},
                              "compute": {"status": "failed", "n": 1, "jobs": ["1.s"]},
                              "stage-out": {"status": "skipped"}}.items():
            record.note(session, wf, "steps", name, **changes)
        record.note(session, wf, "on_failure", "cleanup", status="succeeded", n=1,
                    jobs=["2.s"])
        record.set_state(session, wf, "failed", AT)
        return wf.id


def retry(store: Store, workflow_id: str, *names: str) -> tuple[list[str], dict]:
    with store.session() as session:
        wf = record.get(session, workflow_id)
        assert wf is not None
        again = reopen(session, wf, list(names), AT)
        return again, {name: dict(entry) for name, entry in wf.progress["steps"].items()}


def test_a_retry_runs_what_did_not_succeed_and_keeps_what_did(store: Store, failed: str
                                                              ) -> None:
    again, steps = retry(store, failed)
    assert again == ["compute", "stage-out"]
    assert steps["stage-in"]["status"] == "succeeded"
    assert (steps["compute"]["status"], steps["compute"]["n"]) == ("pending", 1)


def test_a_succeeded_step_named_runs_again_with_everything_after_it(store: Store,
                                                                   failed: str) -> None:
    again, steps = retry(store, failed, "stage-in")
    assert again == ["stage-in", "compute", "stage-out"]
    assert (steps["stage-in"]["status"], steps["stage-in"]["attempt"]) == ("pending", 1)
    assert steps["stage-in"]["tasks"] == ["T1"]  # history kept; the next attempt is 2


def test_unknown_steps_and_a_workflow_still_running_are_refused(store: Store, failed: str
                                                               ) -> None:
    with pytest.raises(RetryRefused, match="no step 'stage_in'"):
        retry(store, failed, "stage_in")
    retry(store, failed)
    with pytest.raises(RetryRefused, match="is running: only a failed or cancelled"):
        retry(store, failed)
