"""The tracker keeps workflow records current from events; the context hook reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from watcher.events import APPEARED, CHANGED, GLOBUS_TASK, PBS_JOB, Event
from watcher.store.db import Store, open_store
from watcher.store.watch import is_watched, watch
from watcher.workflows import record
from watcher.workflows.context import workflow_context
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.tracker import track

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
SPEC = WorkflowSpec(script="c.sh", stage_in_task="T-in", cleanup="clean.sh",
                    stage_out=[{"from": "aaaa:/out/", "to": "bbbb:/res/"}])


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store("sqlite://")
    yield opened
    opened.close()


@pytest.fixture
def wf_id(store: Store) -> str:
    with store.session() as session:
        wf = record.create(session, SPEC, "/work", AT)
        wf.compute_job, wf.stage_in_task = "1.srv", "T-in"
        record.note(session, wf, "compute", status="held", n=1, jobs=["1.srv"])
        watch(session, "globus", "T-in", workflow=wf.id)
        return wf.id


def job(job_id: str, wf_id: str, state: str, before: str | None = None, **attrs: object
        ) -> Event:
    variables = {"WATCHER_WORKFLOW": wf_id, "WATCHER_STEP": "compute"}
    prev = None if before is None else {"id": job_id, "state": before, "variables": variables}
    return Event(PBS_JOB, job_id, AT, APPEARED if before is None else CHANGED, prev,
                 {"id": job_id, "state": state, "variables": variables, **attrs})


def task(task_id: str, status: str, before: str | None = None, label: str = "") -> Event:
    prev = None if before is None else {"status": before, "label": label}
    return Event(GLOBUS_TASK, task_id, AT, APPEARED if before is None else CHANGED, prev,
                 {"status": status, "label": label, "task_id": task_id})


def apply(store: Store, *events: Event) -> None:
    with store.session() as session:
        track(session, events, AT)


def get(store: Store, wf_id: str) -> record.Workflow:
    with store.session(write=False) as session:
        found = record.get(session, wf_id)
        assert found is not None
        return found


def log(store: Store, wf_id: str) -> list[str]:
    with store.session(write=False) as session:
        return [line.text for line in record.lines(session, wf_id)]


def test_a_new_job_of_a_step_becomes_its_current_job(store: Store, wf_id: str) -> None:
    apply(store, job("5.srv", wf_id, "Q"))
    wf = get(store, wf_id)
    assert wf.compute_job == "5.srv" and wf.progress["compute"]["jobs"] == ["1.srv", "5.srv"]
    assert log(store, wf_id)[-1] == "compute is now job 5.srv"
    apply(store, job("1.srv", wf_id, "F", "H", exit_status=3))  # the old job's end is history
    assert get(store, wf_id).progress["compute"]["status"] == "queued"


def test_jobs_of_other_workflows_and_plain_jobs_are_ignored(store: Store, wf_id: str) -> None:
    apply(store, job("7.srv", "wf-000000", "R"),
          Event(PBS_JOB, "8.srv", AT, APPEARED, None, {"id": "8.srv", "state": "R"}))
    assert log(store, wf_id) == [f"workflow {wf_id} recorded (c)"]


def test_transfers_are_found_by_record_and_by_stage_out_label(store: Store, wf_id: str
                                                              ) -> None:
    apply(store, task("T-in", "SUCCEEDED", "ACTIVE"))
    assert get(store, wf_id).step == "running"
    with store.session(write=False) as session:
        assert not is_watched(session, "globus", "T-in")  # seen to its end
    apply(store, task("T-out", "ACTIVE", label=f"watcher {wf_id} stage-out"),
          task("T-other", "ACTIVE", label="watcher wf-000000 stage-out"))
    wf = get(store, wf_id)
    assert (wf.stage_out_task, wf.step) == ("T-out", "stage-out")
    assert log(store, wf_id)[-1] == "stage-out started: Globus task T-out"


def test_the_context_names_the_workflow_and_the_role_or_none(store: Store, wf_id: str) -> None:
    with store.session(write=False) as session:
        mine = workflow_context(session, job("1.srv", wf_id, "R", "Q"))
        other = workflow_context(session, Event(PBS_JOB, "9.srv", AT, APPEARED, None,
                                                {"id": "9.srv", "state": "R"}))
        transfer = workflow_context(session, task("T-in", "ACTIVE"))
    assert mine["workflow"]["role"] == "compute"
    assert mine["workflow"]["compute_job"] == "1.srv"
    assert mine["workflow"]["stage_out"]["destination_endpoint"] == "bbbb"
    assert other == {"workflow": None}
    assert transfer["workflow"]["role"] == "stage-in"
