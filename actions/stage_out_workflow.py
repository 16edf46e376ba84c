"""`stage_out_workflow`: start a staged workflow's stage-out transfer, exactly once.

    do:
      - stage_out_workflow: {workflow: "{{ workflow.id }}"}

The pairs come from the workflow's spec (`watcher stage submit --stage-out SRC DST`), which
`stage_out`'s parameters cannot say in a rule file (a template renders text, not a list of
items). Everything else is `stage_out`: its defaults (recursive directories, mtime sync,
timestamps kept) and its exactly-once submission (`watcher.actions.transfer.execute`, keyed by this
intent). The task is labelled `watcher <workflow> stage-out`, which is how the workflow's
tracker and rules know it, and is recorded on the workflow at once.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import Field

from watcher.actions import stage_out
from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.templating import is_template

if TYPE_CHECKING:
    from watcher.store.db import Store

DEFAULT_WORKFLOW = "{{ workflow.id }}"


class Params(ActionParams):
    """Which workflow (default: the one whose job fired the rule)."""

    workflow: str = Field(DEFAULT_WORKFLOW, min_length=1)


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Build `stage_out`'s parameters from the spec and submit once."""
    store = ctx.services.store
    if store is None:
        return Outcome.missing("store", "stage_out_workflow reads the workflow's spec there")
    if is_template(params.workflow):
        return Outcome.failed("no workflow: the event is not about a workflow's job",
                              retryable=False)
    found, transfer = await asyncio.to_thread(_transfer_of, store, params.workflow)
    if not found:
        return Outcome.failed(f"no workflow {params.workflow} in the store", retryable=False)
    if transfer is None:
        return Outcome.failed(f"{params.workflow} has no stage-out", retryable=False)
    from watcher.workflows.stagein import label  # late: see watcher.actions.base

    outcome = await stage_out.execute(ctx, stage_out.Params(
        **transfer, label=label(params.workflow, "stage-out")))
    task_id = outcome.facts.get("task_id")
    if outcome.ok and task_id:
        await asyncio.to_thread(_record, store, params.workflow, str(task_id), ctx)
    return outcome


def _transfer_of(store: Store, workflow_id: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether the workflow exists, and its stage-out transfer (None: it has none)."""
    from watcher.workflows import record  # late: see watcher.actions.base

    with store.session(write=False) as session:
        wf = record.get(session, workflow_id)
        return (False, None) if wf is None else (True, wf.spec.get("stage_out_transfer"))


def _record(store: Store, workflow_id: str, task_id: str, ctx: ActionContext) -> None:
    from watcher.workflows import record  # late: see watcher.actions.base

    with store.session() as session:
        wf = record.get(session, workflow_id)
        if wf is None or wf.stage_out_task == task_id:
            return
        wf.stage_out_task = task_id
        record.note(session, wf, "stage_out", status="active", task=task_id)
        record.log(session, wf, ctx.now, record.STAGE_OUT,
                   f"stage-out started: Globus task {task_id}")
