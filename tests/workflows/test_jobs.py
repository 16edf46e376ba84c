"""The qsub command lines of a workflow's jobs, and finding them again in qstat."""

from __future__ import annotations

import json

from watcher.pbs.parse import parse_qstat_json
from watcher.workflows.jobs import qsub_argv, tagged_job, workflow_of

SPEC = {"script": "c.sh", "cleanup": "clean.sh",
        "qsub_args": ["-l", "walltime=01:00:00", "-q", "work", "-h", "-v", "A=1"]}


def test_compute_keeps_its_options_and_variables_and_gains_the_tags() -> None:
    assert qsub_argv(SPEC, "run", "wf-abc123", "compute", 1, hold=True) == [
        "-l", "walltime=01:00:00", "-q", "work", "-h", "-N", "run", "-v",
        "A=1,WATCHER_WORKFLOW=wf-abc123,WATCHER_STEP=compute,"
        "WATCHER_INTENT=wf-abc123:compute:1", "c.sh"]


def test_released_cleanup_keeps_only_where_it_is_charged_and_queued() -> None:
    assert qsub_argv(SPEC, "run", "wf-abc123", "cleanup", 2, hold=False) == [
        "-q", "work", "-N", "run-cleanup", "-v",
        "WATCHER_WORKFLOW=wf-abc123,WATCHER_STEP=cleanup,WATCHER_INTENT=wf-abc123:cleanup:2",
        "clean.sh"]


def test_a_submission_is_found_by_its_tag_only() -> None:
    def job(intent: str) -> dict:
        return {"Job_Name": "run", "Job_Owner": "me@h", "queue": "q", "job_state": "H",
                "Variable_List": {"WATCHER_WORKFLOW": "wf-abc123", "WATCHER_STEP": "compute",
                                  "WATCHER_INTENT": intent}}
    doc = parse_qstat_json(json.dumps({"Jobs": {"5.s": job("wf-abc123:compute:1"),
                                                "6.s": job("wf-abc123:compute:2")}}))
    found = tagged_job(doc, "wf-abc123", "compute", 2)
    assert found is not None and found.id == "6.s"
    assert tagged_job(doc, "wf-abc123", "compute", 3) is None
    assert workflow_of(found.attributes()) == ("wf-abc123", "compute")
    assert workflow_of({"variables": {"WATCHER_WORKFLOW": "wf-abc123"}}) is None
