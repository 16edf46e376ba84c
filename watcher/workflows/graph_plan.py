"""What a graph workflow must do next, decided from its record (pure: no I/O).

Each step's progress entry has a `status`:

- live: `pending` (nothing done yet), `submitting` (a qsub or a transfer start was marked and
  may have gone through: a crash leaves this), `held`, `queued`, `running` (jobs), `active`,
  `inactive` (transfers), `retry` (failed, with retries left: to be submitted or started
  again), `lost` (its job vanished from PBS);
- ended: `succeeded`, `failed`, `skipped` (an `after:` step failed, so it never ran or was
  deleted), `cancelled`.

`advance` turns that into moves: every job step is submitted at once, held while any of its
`after:` steps has not succeeded, and released when they all have; a transfer step starts
when its `after:` steps succeeded; a step whose `after:` failed is skipped (its held job
deleted); a step to retry is submitted or started again. When no step is live the workflow
is done (all succeeded) or failed: then its `on_failure` steps start (one with `if_failed:`
only if one of those steps failed), and one mail says why.
With a qstat listing (`watcher recover`), a live job PBS no longer knows is submitted again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.pbs.parse import QstatDocument
from watcher.pbs.snapshot import JobSnapshot
from watcher.workflows.graph import order
from watcher.workflows.jobs import tagged_job

ENDED = frozenset({"succeeded", "failed", "skipped", "cancelled"})
LIVE = frozenset({"pending", "submitting", "held", "queued", "running", "active", "inactive",
                  "retry", "lost"})
DEAD = frozenset({"failed", "skipped", "cancelled"})
# Workflow states (the record's `step`) of a graph workflow.
RUNNING, FAILING, DONE, FAILED, CANCELLED = "running", "failing", "done", "failed", "cancelled"
FINAL = frozenset({DONE, FAILED, CANCELLED})
FIRST = "not submitted yet"
INTERRUPTED = "submission interrupted"  # marked, and no record of what qsub said


@dataclass(frozen=True)
class Submit:
    """qsub submission `n` of a job step (or adopt the job PBS shows for it)."""

    section: str
    step: str
    n: int
    hold: bool
    reason: str = FIRST
    adopt: str | None = None


@dataclass(frozen=True)
class Release:
    """qrls the held job of a step whose `after:` all succeeded."""

    section: str
    step: str
    job: str


@dataclass(frozen=True)
class Start:
    """Start attempt `attempt` of a transfer step (exactly once per attempt)."""

    section: str
    step: str
    attempt: int
    reason: str = FIRST


@dataclass(frozen=True)
class Skip:
    """The step will never run: mark it skipped and delete its job if it has a live one."""

    section: str
    step: str
    reason: str
    job: str | None = None


@dataclass(frozen=True)
class Finish:
    """The workflow moves to `state` (`failing`, `failed` or `done`); `mail` once."""

    state: str
    mail: bool = True


Move = Submit | Release | Start | Skip | Finish


@dataclass
class Plan:
    """The moves, in order."""

    moves: list[Move] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No moves: the workflow waits for news (the runner stops re-planning)."""
        return not self.moves


def needs_listing(progress: Mapping[str, Any]) -> bool:
    """Whether a step was interrupted between its mark and its record (qstat must tell)."""
    return any(entry.get("status") == "submitting" and entry.get("kind") == "job"
               for section in ("steps", "on_failure")
               for entry in (progress.get(section) or {}).values())


def advance(workflow_id: str, state: str, spec: Mapping[str, Any],
            progress: Mapping[str, Any], doc: QstatDocument[JobSnapshot] | None = None
            ) -> Plan:
    """The moves that take the workflow from where its record says it is."""
    out = Plan()
    if state in FINAL:
        return out
    steps: Mapping[str, Any] = spec["steps"]
    entries: Mapping[str, Any] = progress.get("steps") or {}
    after_effects: dict[str, str] = {}  # this plan's own verdicts, seen by later steps
    if state != FAILING:
        for name in order(steps):
            status = _plan_step(out, workflow_id, "steps", name, steps, entries,
                                after_effects, doc)
            after_effects[name] = status
        if all(status in ENDED for status in after_effects.values()):
            if all(status == "succeeded" for status in after_effects.values()):
                _not_needed(out, spec.get("on_failure") or {}, progress.get("on_failure") or {})
                out.moves.append(Finish(DONE))
                return out
            failure = spec.get("on_failure") or {}
            out.moves.append(Finish(FAILING if failure else FAILED))
            if not failure:
                return out
            state = FAILING
        else:
            return out
    failure = spec.get("on_failure") or {}
    failure_entries: Mapping[str, Any] = progress.get("on_failure") or {}
    verdicts: dict[str, str] = {}
    failed = {name for name, entry in entries.items() if entry.get("status") == "failed"}
    for name in order(failure):
        status = (failure_entries.get(name) or {}).get("status", "pending")
        if not starts_on(failure[name], failed) and status not in ENDED:
            wanted = " or ".join(failure[name]["if_failed"])
            out.moves.append(Skip("on_failure", name, f"runs only if {wanted} failed",
                                  job=_current(failure_entries.get(name) or {})))
            verdicts[name] = "skipped"
            continue
        verdicts[name] = _plan_step(out, workflow_id, "on_failure", name, failure,
                                    failure_entries, verdicts, doc)
    if all(status in ENDED for status in verdicts.values()):
        out.moves.append(Finish(FAILED, mail=False))
    return out


def _plan_step(out: Plan, workflow_id: str, section: str, name: str,
               steps: Mapping[str, Any], entries: Mapping[str, Any],
               verdicts: Mapping[str, str], doc: QstatDocument[JobSnapshot] | None) -> str:
    """Add the moves of one step; returns its status as far as later steps should see it."""
    step = steps[name]
    entry = entries.get(name) or {"status": "pending"}
    status = str(entry.get("status") or "pending")
    if status in ENDED:
        return status
    after = [verdicts.get(dep, (entries.get(dep) or {}).get("status", "pending"))
             for dep in step.get("after") or []]
    ready = all(dep == "succeeded" for dep in after)
    dead = [dep for dep, verdict in zip(step.get("after") or [], after, strict=True)
            if verdict in DEAD]
    current = _current(entry)
    if dead:
        live_job = current if step["kind"] == "job" and status not in (
            "pending", "lost", "retry") else None
        out.moves.append(Skip(section, name, f"{', '.join(dead)} did not succeed",
                              job=live_job))
        return "skipped"
    if step["kind"] == "transfer":
        attempt = int(entry.get("attempt", 0))
        if status == "submitting":
            out.moves.append(Start(section, name, attempt, "start interrupted"))
        elif status in ("pending", "retry") and ready:
            out.moves.append(Start(section, name, attempt + 1, FIRST if status == "pending"
                                   else str(entry.get("reason") or "retry")))
        return status
    n = int(entry.get("n", 0))
    if status == "pending":
        out.moves.append(Submit(section, name, n + 1, hold=not ready))
    elif status == "submitting":
        if doc is None:
            raise ValueError("a qstat listing is needed for an interrupted submission")
        found = tagged_job(doc, workflow_id, name, n)
        out.moves.append(Submit(section, name, n, hold=not ready,
                                reason=INTERRUPTED,
                                adopt=found.id if found else None))
    elif status in ("retry", "lost"):
        reason = str(entry.get("reason") or (f"job {current} is gone from PBS"
                                             if status == "lost" else "retry"))
        out.moves.append(Submit(section, name, n + 1, hold=not ready, reason=reason))
    elif doc is not None and current is not None and current not in doc.jobs:
        out.moves.append(Submit(section, name, n + 1, hold=not ready,
                                reason=f"job {current} is gone from PBS"))
    elif status == "held" and ready and current is not None:
        out.moves.append(Release(section, name, current))
    return status


def starts_on(step: Mapping[str, Any], failed: set[str]) -> bool:
    """Whether an on_failure step starts when the steps `failed` failed: always, unless its
    `if_failed:` names steps and none of them is among those."""
    wanted = step.get("if_failed") or []
    return not wanted or bool(failed & set(wanted))


def _not_needed(out: Plan, failure: Mapping[str, Any], entries: Mapping[str, Any]) -> None:
    """The workflow succeeded: an on_failure step's job already in PBS (held, as a workflow
    recorded by an earlier watcher submitted its cleanup job) is deleted."""
    for name in failure:
        entry = entries.get(name) or {}
        job = _current(entry)
        if job is not None and entry.get("status") not in ENDED:
            out.moves.append(Skip("on_failure", name, "the workflow succeeded", job=job))


def _current(entry: Mapping[str, Any]) -> str | None:
    jobs = entry.get("jobs") or []
    return str(jobs[-1]) if jobs else None
