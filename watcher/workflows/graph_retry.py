"""`watcher stage retry WF [STEP...]`: run again what did not succeed, like a DAGMan rescue DAG.

Only a workflow that ended without succeeding (failed, or cancelled) is retried. Steps that
succeeded are kept: their outputs are where they put them. The steps to run again (the named
ones, or every one that did not succeed) and every step after them that did not succeed go
back to `pending`; the others keep their verdict. A step named although it succeeded (its
output is gone: an on_failure cleanup removed the staged inputs) runs again with every step
after it. Submission numbers and transfer attempts go
on counting, so the retry's jobs carry new `WATCHER_INTENT` tags and its transfers new
exactly-once keys: nothing of the first round is taken for the second. Retry counters start
afresh, the `on_failure` steps may run again, and the next round mails again (its mails are
keyed by the round). Then the workflow is completed as a fresh one is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from watcher.store.models import Workflow
from watcher.workflows import record
from watcher.workflows.graph import dependants
from watcher.workflows.graph_plan import CANCELLED, FAILED, RUNNING


class RetryRefused(Exception):
    """Nothing was changed (the message says why)."""


def reopen(session: Session, wf: Workflow, names: Sequence[str], now: datetime) -> list[str]:
    """Put the steps to run again back to pending; returns their names."""
    if wf.step not in (FAILED, CANCELLED):
        raise RetryRefused(f"workflow {wf.id} is {wf.step}: only a failed or cancelled "
                           "workflow is retried (`watcher stage cancel` it first)")
    steps = wf.spec["steps"]
    entries = wf.progress.get("steps") or {}
    unknown = [name for name in names if name not in steps]
    if unknown:
        raise RetryRefused(f"no step {', '.join(map(repr, unknown))} in {wf.id} (steps: "
                           f"{', '.join(steps)})")
    chosen = list(names) or [name for name in steps
                             if (entries.get(name) or {}).get("status") != "succeeded"]
    again = set(chosen)
    for name in chosen:
        # after a step named though it succeeded (its output is gone: a cleanup removed the
        # staged inputs, say), everything after it runs again on what it makes anew
        rerun = (entries.get(name) or {}).get("status") == "succeeded"
        again.update(dep for dep in dependants(steps, name)
                     if rerun or (entries.get(dep) or {}).get("status") != "succeeded")
    again_list = [name for name in steps if name in again]
    if not again_list:
        raise RetryRefused(f"every step of {wf.id} succeeded: nothing to retry")
    for name in again_list:
        record.note(session, wf, "steps", name, status="pending", reason=None,
                    retries_used={}, exit_status=None, ended_at=None)
    for name in wf.spec.get("on_failure") or {}:
        record.note(session, wf, "on_failure", name, status="pending", reason=None,
                    retries_used={})
    round_ = int(wf.progress.get("round", 1)) + 1
    wf.progress = {**wf.progress, "round": round_, "mailed": []}
    wf.step, wf.finished_at, wf.updated_at = RUNNING, None, now
    session.add(wf)
    record.log(session, wf, now, record.WHOLE,
               f"retry (round {round_}): running again {', '.join(again_list)}")
    return again_list
