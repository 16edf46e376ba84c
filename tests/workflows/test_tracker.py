"""The tracker keeps workflow records current from events; the context hook reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.events import APPEARED, CHANGED, GLOBUS_TASK, PBS_JOB, Event
from watcher.store.db import Store
from watcher.store.facts import put_fact
from watcher.store.models import Workflow
from watcher.store.watch import is_watched, watch
from watcher.workflows import record
from watcher.workflows.context import workflow_context
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import as_graph
from watcher.workflows.tracker import track

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
GRAFT = "5b0e2d1c-6d04-11e5-ba46-22000b92c6ec"
SPEC = as_graph(WorkflowSpec(script="c.sh", stage_in_task=GRAFT, cleanup="clean.sh",
                             stage_out=[{"from": "aaaa:/out/", "to": "bbbb:/res/"}]))


@pytest.fixture
def wf_id(store: Store) -> str:
    """A three-step workflow under way: its grafted stage-in running, compute 1.srv held."""
    with store.session() as session:
        wf = record.create(session, SPEC, "/work", AT)
        record.note(session, wf, "steps", "stage-in", status="active", attempt=1,
                    tasks=[GRAFT])
        record.note(session, wf, "steps", "compute", status="held", n=1, jobs=["1.srv"])
        watch(session, "globus", GRAFT, workflow=wf.id)
        put_fact(session, record.grafted_key(GRAFT), {"workflow": wf.id, "step": "stage-in"})
        return wf.id


def job(job_id: str, wf_id: str, state: str, before: str | None = None, n: int = 1,
        **attrs: object) -> Event:
    variables = {"WATCHER_WORKFLOW": wf_id, "WATCHER_STEP": "compute",
                 "WATCHER_INTENT": f"{wf_id}:compute:{n}"}
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


def get(store: Store, wf_id: str) -> Workflow:
    with store.session(write=False) as session:
        found = record.get(session, wf_id)
        assert found is not None
        return found


def log(store: Store, wf_id: str) -> list[str]:
    with store.session(write=False) as session:
        return [line.text for line in record.lines(session, wf_id)]


def compute(store: Store, wf_id: str) -> dict:
    return get(store, wf_id).progress["steps"]["compute"]


def test_only_the_current_job_moves_its_step(store: Store, wf_id: str) -> None:
    apply(store, job("1.srv", wf_id, "Q", "H"))
    assert compute(store, wf_id)["status"] == "queued"
    assert log(store, wf_id)[-1] == "job 1.srv released"
    apply(store, job("5.srv", wf_id, "Q", n=1))  # not its submission being interrupted
    assert compute(store, wf_id)["jobs"] == ["1.srv"]
    apply(store, job("1.srv", wf_id, "F", "R", exit_status=0, substate=92))
    assert compute(store, wf_id)["status"] == "succeeded"


def test_a_job_of_an_interrupted_submission_is_learnt_by_its_tag(store: Store, wf_id: str
                                                                 ) -> None:
    with store.session() as session:
        wf = record.get(session, wf_id)
        assert wf is not None
        record.note(session, wf, "steps", "compute", status="submitting", n=2)
    apply(store, job("6.srv", wf_id, "H", n=1))  # the first submission's tag: not this one
    assert compute(store, wf_id)["jobs"] == ["1.srv"]
    apply(store, job("7.srv", wf_id, "H", n=2))
    assert compute(store, wf_id)["jobs"] == ["1.srv", "7.srv"]


def test_jobs_of_other_workflows_and_plain_jobs_are_ignored(store: Store, wf_id: str) -> None:
    before = log(store, wf_id)
    apply(store, job("7.srv", "wf-000000", "R"),
          Event(PBS_JOB, "8.srv", AT, APPEARED, None, {"id": "8.srv", "state": "R"}))
    assert log(store, wf_id) == before


def test_a_grafted_task_is_found_by_its_fact_and_unwatched_at_its_end(store: Store,
                                                                      wf_id: str) -> None:
    apply(store, task(GRAFT, "SUCCEEDED", "ACTIVE", label="my own transfer"))
    assert get(store, wf_id).progress["steps"]["stage-in"]["status"] == "succeeded"
    with store.session(write=False) as session:
        assert not is_watched(session, "globus", GRAFT)  # seen to its end


def test_a_labelled_task_of_a_step_being_started_is_learnt(store: Store, wf_id: str) -> None:
    with store.session() as session:
        wf = record.get(session, wf_id)
        assert wf is not None
        record.note(session, wf, "steps", "stage-out", status="submitting", attempt=1)
    apply(store, task("T-out", "ACTIVE", label=f"watcher {wf_id} stage-out"),
          task("T-other", "ACTIVE", label="watcher wf-000000 stage-out"))
    entry = get(store, wf_id).progress["steps"]["stage-out"]
    assert (entry["tasks"], entry["status"]) == (["T-out"], "active")


def test_the_context_names_the_workflow_and_the_step_or_none(store: Store, wf_id: str) -> None:
    with store.session(write=False) as session:
        mine = workflow_context(session, job("1.srv", wf_id, "R", "Q"))
        other = workflow_context(session, Event(PBS_JOB, "9.srv", AT, APPEARED, None,
                                                {"id": "9.srv", "state": "R"}))
        transfer = workflow_context(session, task(GRAFT, "ACTIVE"))
    assert mine["workflow"]["role"] == "compute"
    assert mine["workflow"]["jobs"] == {"compute": "1.srv"}
    assert mine["workflow"]["tasks"] == {"stage-in": GRAFT}
    assert mine["workflow"]["step"] == "submitted"
    assert other == {"workflow": None}
    assert transfer["workflow"]["role"] == "stage-in"
    assert transfer["workflow"]["step_kind"] == "transfer"


def test_a_source_time_never_puts_a_line_before_the_steps_last(store: Store, wf_id: str
                                                               ) -> None:
    started = AT.replace(microsecond=600_000)
    with store.session() as session:
        wf = record.get(session, wf_id)
        assert wf is not None
        record.log(session, wf, started, "stage-in", "grafted: Globus task T")
    done = task(GRAFT, "SUCCEEDED", "ACTIVE")
    assert done.current is not None
    done.current["completion_time"] = AT.isoformat()  # whole seconds: before `started`
    apply(store, done)
    with store.session(write=False) as session:
        lines = [(line.at, line.text) for line in record.lines(session, wf_id)
                 if line.step == "stage-in"]
    assert [text for _at, text in lines][-2:] == ["grafted: Globus task T",
                                                  f"task {GRAFT} succeeded (? file(s), 0 bytes)"]
    assert lines[-1][0] == started
    ended = get(store, wf_id).progress["steps"]["stage-in"]["ended_at"]
    assert ended == AT.isoformat()  # the step table keeps what Globus said
