"""What completing or recovering a workflow decides, from its record and a qstat listing."""

from __future__ import annotations

import json

import pytest

from watcher.pbs.parse import QstatDocument, parse_qstat_json
from watcher.workflows.plan import JobAction, Plan, needs_listing, plan

WF = "wf-abc123"
SPEC = {"walltime_retries": 1}


def listing(**jobs: tuple[str, int | None]) -> QstatDocument:
    """qstat -f -F json -x with jobs `N=(state, exit status)` of workflow WF."""
    docs = {}
    for name, (state, exit_status) in jobs.items():
        job_id = f"{name.lstrip('j')}.srv"
        doc = {"Job_Name": "run", "Job_Owner": "me@host", "queue": "workq",
               "job_state": state, "Variable_List": {"WATCHER_WORKFLOW": WF}}
        if exit_status is not None:
            doc["Exit_status"] = exit_status
        docs[job_id] = doc
    return parse_qstat_json(json.dumps({"Jobs": docs}))


def tagged(job_id: str, step: str, n: int) -> QstatDocument:
    doc = {"Job_Name": "run", "Job_Owner": "me@host", "queue": "workq", "job_state": "H",
           "Variable_List": {"WATCHER_WORKFLOW": WF, "WATCHER_STEP": step,
                             "WATCHER_INTENT": f"{WF}:{step}:{n}"}}
    return parse_qstat_json(json.dumps({"Jobs": {job_id: doc}}))


def progress(stage_in: str = "active", **steps: dict) -> dict:
    base = {"compute": {"status": "held", "n": 1, "jobs": ["1.srv"]},
            "cleanup": {"status": "held", "n": 1, "jobs": ["2.srv"]},
            "stage_in": {"status": stage_in}}
    return {**base, **steps}


def test_a_fresh_workflow_submits_both_jobs_held_and_starts_the_stage_in() -> None:
    fresh = {"compute": {"status": "pending", "n": 0, "jobs": []},
             "cleanup": {"status": "pending", "n": 0, "jobs": []},
             "stage_in": {"status": "pending"}}
    assert not needs_listing(fresh)
    assert plan(WF, "submitted", SPEC, fresh, None) == Plan(
        [JobAction("compute", 1, True, "not submitted yet"),
         JobAction("cleanup", 1, True, "not submitted yet")], "start")


def test_a_grafted_stage_in_is_grafted_not_started() -> None:
    fresh = {"compute": {"status": "pending", "n": 0}, "stage_in": {"status": "grafting"}}
    assert plan(WF, "submitted", SPEC, fresh, None).stage_in == "graft"


def test_nothing_to_do_while_the_jobs_are_in_pbs() -> None:
    doc = listing(j1=("H", None), j2=("H", None))
    assert needs_listing(progress())
    assert plan(WF, "stage-in", SPEC, progress(), doc).empty


def test_lost_jobs_are_submitted_again_and_the_running_transfer_kept() -> None:
    todo = plan(WF, "stage-in", SPEC, progress(), listing())
    assert todo == Plan([JobAction("compute", 2, True, "job 1.srv is gone from PBS"),
                         JobAction("cleanup", 2, True, "job 2.srv is gone from PBS")], None)


def test_after_the_stage_in_succeeded_compute_comes_back_released() -> None:
    todo = plan(WF, "running", SPEC, progress("succeeded"), listing(j2=("H", None)))
    assert todo.jobs == [JobAction("compute", 2, False, "job 1.srv is gone from PBS")]


def test_a_released_cleanup_comes_back_released() -> None:
    steps = progress("failed", compute={"status": "deleted", "n": 1, "jobs": ["1.srv"]})
    todo = plan(WF, "cleanup", SPEC, steps, listing())
    assert todo.jobs == [JobAction("cleanup", 2, False, "job 2.srv is gone from PBS")]


def test_finished_steps_and_a_done_workflow_need_nothing() -> None:
    steps = progress("succeeded", compute={"status": "done", "n": 1, "jobs": ["1.srv"]})
    assert plan(WF, "done", SPEC, steps, listing()).empty
    assert plan(WF, "stage-out", SPEC, steps, listing(j2=("H", None))).empty


def test_a_job_that_ended_on_its_own_is_left_to_the_rules() -> None:
    for exit_status in (0, 3):
        doc = listing(j1=("F", exit_status), j2=("H", None))
        assert plan(WF, "running", SPEC, progress("succeeded"), doc).empty


@pytest.mark.parametrize(("used", "expected"), [(0, 1), (1, 0)])
def test_a_walltime_kill_is_retried_as_often_as_the_spec_allows(used: int, expected: int
                                                                ) -> None:
    steps = progress("succeeded", compute={"status": "killed", "n": 1, "jobs": ["1.srv"],
                                           "walltime_retries": used})
    todo = plan(WF, "running", SPEC, steps, listing(j1=("F", -29), j2=("H", None)))
    assert len(todo.jobs) == expected
    if expected:
        assert todo.jobs[0] == JobAction("compute", 2, False,
                                         "job 1.srv was killed by its walltime",
                                         walltime_retry=True)


def test_an_interrupted_submission_adopts_the_tagged_job_or_tries_the_same_tag() -> None:
    steps = progress(compute={"status": "submitting", "n": 2, "jobs": ["1.srv"]},
                     cleanup={"status": "pending", "n": 0, "jobs": []})
    found = plan(WF, "stage-in", SPEC, steps, tagged("7.srv", "compute", 2))
    assert found.jobs[0] == JobAction("compute", 2, True, "submission interrupted",
                                      adopt="7.srv")
    lost = plan(WF, "stage-in", SPEC, steps, tagged("7.srv", "compute", 1))
    assert lost.jobs[0] == JobAction("compute", 2, True, "submission interrupted")
