"""What completing (or recovering) a workflow must do, decided from its record and one qstat
listing (pure: no I/O).

A job step needs a job while the workflow may still need it: compute until it ended (or the
stage-in failed), cleanup until the workflow succeeded. For such a step:

- never submitted (`pending`): submit it;
- `submitting` (a crash between the mark and the record): adopt the job tagged with that
  submission if qstat lists one, else submit it with the same tag;
- otherwise look at its current job in qstat: alive (not F) or ended on its own: nothing;
  killed by walltime (-29): submit again while the workflow allows walltime retries; gone
  from PBS (a lost queue): submit again.

Compute is submitted held until the stage-in succeeded; cleanup stays held until the workflow
failed. A running or finished transfer is never started again: only a stage-in that was never
started (or whose start was interrupted) is started, with the same exactly-once key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.pbs.parse import QstatDocument
from watcher.pbs.snapshot import JobSnapshot
from watcher.workflows.jobs import tagged_job
from watcher.workflows.record import CLEANUP, DONE, ENDED, FAILED

WALLTIME_KILLED = -29
_FINISHED = ("done", "failed", "deleted")


# The reason of a job's first submission (said "submitted", not "submitted again because").
FIRST_SUBMISSION = "not submitted yet"

@dataclass(frozen=True)
class JobAction:
    """Submit (or adopt) submission `n` of `step`."""

    step: str
    n: int
    hold: bool
    reason: str
    adopt: str | None = None  # a job id qstat shows for this very submission
    walltime_retry: bool = False


@dataclass(frozen=True)
class Plan:
    """What a recovery will do: the jobs to submit again, and whether to start or graft the
    stage-in."""

    jobs: list[JobAction] = field(default_factory=list)
    stage_in: str | None = None  # "start" or "graft"

    @property
    def empty(self) -> bool:
        """No job to submit again and no stage-in to start or graft."""
        return not self.jobs and self.stage_in is None


def needs_listing(progress: Mapping[str, Any]) -> bool:
    """Whether deciding needs qstat (a fresh workflow, all pending, does not)."""
    return any(progress.get(step, {}).get("status") not in (None, "pending")
               for step in ("compute", "cleanup"))


def plan(workflow_id: str, step: str, spec: Mapping[str, Any], progress: Mapping[str, Any],
         doc: QstatDocument[JobSnapshot] | None) -> Plan:
    """What to do for the workflow whose current step, spec and progress are given."""
    stage_in = progress.get("stage_in", {}).get("status")
    jobs = []
    for name in ("compute", "cleanup"):
        entry = progress.get(name)
        if entry is None or not _needed(name, step, stage_in, entry):
            continue
        hold = stage_in != "succeeded" if name == "compute" else step not in (CLEANUP, FAILED)
        action = _job_action(workflow_id, name, entry, hold, spec, doc)
        if action is not None:
            jobs.append(action)
    start = {"pending": "start", "submitting": "start", "grafting": "graft"}.get(stage_in or "")
    return Plan(jobs, start)


def _needed(name: str, step: str, stage_in: str | None, entry: Mapping[str, Any]) -> bool:
    if entry.get("status") in _FINISHED:
        return False
    if name == "compute":
        return stage_in != "failed" and step not in ENDED
    return step != DONE


def _job_action(
    workflow_id: str, name: str, entry: Mapping[str, Any], hold: bool,
    spec: Mapping[str, Any], doc: QstatDocument[JobSnapshot] | None,
) -> JobAction | None:
    status, n = entry.get("status"), int(entry.get("n", 0))
    if status == "pending":
        return JobAction(name, n + 1, hold, FIRST_SUBMISSION)
    if doc is None:
        raise ValueError("a qstat listing is needed for a workflow already under way")
    if status == "submitting":
        found = tagged_job(doc, workflow_id, name, n)
        return JobAction(name, n, hold, "submission interrupted",
                         adopt=found.id if found else None)
    jobs = entry.get("jobs") or []
    current = doc.jobs.get(jobs[-1]) if jobs else None
    if current is None:
        return JobAction(name, n + 1, hold, f"job {jobs[-1] if jobs else '?'} is gone from PBS")
    if current.state != "F" or current.exit_status != WALLTIME_KILLED:
        return None  # alive, or ended on its own: the rules take it from here
    if int(entry.get("walltime_retries", 0)) >= int(spec.get("walltime_retries", 0)):
        return None
    return JobAction(name, n + 1, hold, f"job {current.id} was killed by its walltime",
                     walltime_retry=True)
