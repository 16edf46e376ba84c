"""How a workflow's jobs are tagged, and found again by their tags (pure).

Each job carries its workflow in its own environment (`-v WATCHER_WORKFLOW=wf-…,
WATCHER_STEP=<step>`), so the staging rules select it by `variables:` whatever its id,
and `WATCHER_INTENT=<workflow>:<step>:<n>` names the n-th submission of that step: after a crash
between qsub and the record of its job id, `qstat` shows whether that submission got through
(the same tag lookup `resubmit` does), so a step is never submitted twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.pbs.lineage import INTENT
from watcher.pbs.parse import QstatDocument
from watcher.pbs.snapshot import JobSnapshot

WORKFLOW_VAR = "WATCHER_WORKFLOW"
STEP_VAR = "WATCHER_STEP"


def submission_tag(workflow_id: str, step: str, n: int) -> str:
    """The WATCHER_INTENT value of the n-th submission of a step (1 for the first)."""
    return f"{workflow_id}:{step}:{n}"


def tagged_job(
    doc: QstatDocument[JobSnapshot], workflow_id: str, step: str, n: int
) -> JobSnapshot | None:
    """The job submission `n` of `step` left in PBS, if qstat lists one."""
    tag = submission_tag(workflow_id, step, n)
    found = [job for job in doc.jobs.values()
             if job.variables.get(INTENT) == tag and job.variables.get(WORKFLOW_VAR)
             == workflow_id]
    return found[0] if found else None


def workflow_of(attrs: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(workflow id, step) a job's attributes say it belongs to, or None."""
    variables = (attrs or {}).get("variables") or {}
    workflow_id, step = variables.get(WORKFLOW_VAR), variables.get(STEP_VAR)
    if workflow_id and step:
        return str(workflow_id), str(step)
    return None
