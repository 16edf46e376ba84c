"""The qsub command line of a workflow's compute and cleanup jobs (pure).

Each job carries its workflow in its own environment (`-v WATCHER_WORKFLOW=wf-…,
WATCHER_STEP=compute|cleanup`), so the staging rules select it by `variables:` whatever its id,
and `WATCHER_INTENT=<workflow>:<step>:<n>` names the n-th submission of that step: after a crash
between qsub and the record of its job id, `qstat` shows whether that submission got through
(the same tag lookup `resubmit` does), so a step is never submitted twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from watcher.pbs.lineage import INTENT
from watcher.pbs.parse import QstatDocument
from watcher.pbs.snapshot import JobSnapshot
from watcher.pbs.submit_args import QsubArgs, parse_submit_arguments, set_variables

WORKFLOW_VAR = "WATCHER_WORKFLOW"
STEP_VAR = "WATCHER_STEP"
# What the cleanup job keeps of the compute job's options: where it is charged and queued,
# not the resources (a cleanup needs no hundred nodes).
_CLEANUP_KEEPS = ("A", "q", "P")


def submission_tag(workflow_id: str, step: str, n: int) -> str:
    """The WATCHER_INTENT value of the n-th submission of a step (1 for the first)."""
    return f"{workflow_id}:{step}:{n}"


def qsub_argv(spec: Mapping[str, Any], name: str, workflow_id: str, step: str, n: int, *,
              hold: bool) -> list[str]:
    """The qsub arguments (argument list, no program name) for submission `n` of `step`."""
    options = parse_submit_arguments(" ".join(spec.get("qsub_args") or [])).options
    if step == "cleanup":
        options = tuple(o for o in options if o[0] in _CLEANUP_KEEPS)
        script, job_name = spec["cleanup"], f"{name}-cleanup"
    else:
        script, job_name = spec["script"], name
    args = QsubArgs(options).without("h", "z")
    if hold:
        args = args.plus("h")
    if not args.has("N"):
        args = args.plus("N", job_name[:230])
    tags = {WORKFLOW_VAR: workflow_id, STEP_VAR: step,
            INTENT: submission_tag(workflow_id, step, n)}
    return replace(set_variables(args, tags), script=script).argv()


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
