"""Finding a workflow's jobs again in qstat by their tags (their command lines:
`test_three_step`, `test_graph_run`)."""

from __future__ import annotations

import json

from watcher.pbs.parse import parse_qstat_json
from watcher.workflows.jobs import tagged_job, workflow_of


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
