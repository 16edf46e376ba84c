"""A workflow recorded by a watcher before the one engine (the three-step record: `script`,
`stage_in_transfer`, progress per `compute`/`cleanup`/`stage_in`/`stage_out`) as the graph
record it is now, so a workflow in flight across an upgrade goes on where it stood (pure).

Nothing already done is done again: job ids and submission numbers are kept (the old jobs'
`WATCHER_STEP` tags are the new step names: `compute`, `cleanup`), transfers keep their task
ids, a walltime retry used stays used, and a mail sent is marked sent. A cleanup job the old
engine submitted held is kept as the `cleanup` step's job: released if the workflow fails,
deleted once it succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import CLEANUP, COMPUTE, STAGE_IN, STAGE_OUT, as_graph

_OLD_SPEC_ONLY = ("stage_in_transfer", "stage_out_transfer")
_JOB_STATUS = {"done": "succeeded", "killed": "retry", "deleted": "failed"}
_STATE = {"cleanup": "failing", "failed": "failed", "done": "done", "cancelled": "cancelled"}


def is_old(spec: Mapping[str, Any]) -> bool:
    """Whether `spec` is a three-step record of the earlier engine."""
    return not spec.get("graph") and "script" in spec


def upgrade(workflow_id: str, step: str, spec: Mapping[str, Any], progress: Mapping[str, Any]
            ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(state, spec, progress) of the graph record for an old one (see the module)."""
    given = {key: value for key, value in spec.items() if key not in _OLD_SPEC_ONLY}
    graph = as_graph(WorkflowSpec.model_validate(given)).to_record()
    old = {part: dict(progress.get(part) or {}) for part in (
        "compute", "cleanup", "stage_in", "stage_out")}
    steps: dict[str, Any] = {STAGE_IN: _task(old["stage_in"], f"workflow:{workflow_id}:stage-in",
                                             grafted=bool(spec.get("stage_in_task"))),
                             COMPUTE: _job(old["compute"])}
    if STAGE_OUT in graph["steps"]:
        steps[STAGE_OUT] = _task(old["stage_out"], None, grafted=False)
    on_failure = {CLEANUP: _job(old["cleanup"])} if CLEANUP in graph["on_failure"] else {}
    state = _STATE.get(step) or ("submitted" if all(
        entry["status"] == "pending" for entry in steps.values()) else "running")
    mailed = ["done"] if state == "done" else ["failed"] if state in ("failing", "failed") \
        else []
    new = {"steps": steps, "on_failure": on_failure, "mailed": mailed,
           "upgraded_from": workflow_id, **({"cancel": progress["cancel"]}
                                            if "cancel" in progress else {})}
    return state, graph, new


def _job(entry: Mapping[str, Any]) -> dict[str, Any]:
    status = str(entry.get("status") or "pending")
    out: dict[str, Any] = {"kind": "job", "status": _JOB_STATUS.get(status, status),
                           "n": int(entry.get("n", 0)), "jobs": list(entry.get("jobs") or [])}
    if entry.get("walltime_retries"):
        out["retries_used"] = {"walltime": int(entry["walltime_retries"])}
    if status == "killed":
        out["reason"] = f"job {out['jobs'][-1] if out['jobs'] else '?'} was killed by its " \
                        "walltime"
    return out


def _task(entry: Mapping[str, Any], old_key: str | None, *, grafted: bool) -> dict[str, Any]:
    status = str(entry.get("status") or "pending")
    task = entry.get("task")
    if status == "grafting" or (grafted and not task):
        return {"kind": "transfer", "status": "pending", "attempt": 0, "tasks": []}
    if not task:
        if status == "submitting" and old_key:
            # its start may have gone through: asked again under the key it was started with,
            # Globus gives that task back
            return {"kind": "transfer", "status": "submitting", "attempt": 1, "tasks": [],
                    "intent_key": old_key}
        return {"kind": "transfer", "status": "pending", "attempt": 0, "tasks": []}
    return {"kind": "transfer", "status": status if status != "pending" else "active",
            "attempt": 1, "tasks": [str(task)]}
