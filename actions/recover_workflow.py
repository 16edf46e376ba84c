"""`recover_workflow`: submit again the steps of a staged workflow that did not finish.

    do:
      - recover_workflow: {workflow: "{{ workflow.id }}"}

The staging rules (`watcher/workflows/staging.yaml`) run it when a workflow's job vanishes (a
lost queue) or its compute job is killed by its walltime. It does what `watcher recover WF`
does (`watcher.workflows.complete`): a job that is gone or was killed is submitted again from
the workflow's spec (compute released once the stage-in succeeded, cleanup held until the
workflow failed), a job still alive is left alone, and a running transfer is kept: never a
second transfer, never a second job for one step. `workflow:` defaults to the workflow of the
event that fired the rule.

Exactly once: each submission is marked in the workflow's record before its qsub and tagged
`WATCHER_INTENT=<workflow>:<step>:<n>`; a retry after a crash finds the tagged job. Two
recoveries of one workflow (the compute and the cleanup job vanish together) take turns
through a lease on the record; the later one finds nothing left to do.
"""

from __future__ import annotations

from pydantic import Field

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.templating import is_template

DEFAULT_WORKFLOW = "{{ workflow.id }}"


class Params(ActionParams):
    """Which workflow (default: the one whose job or transfer fired the rule)."""

    workflow: str = Field(DEFAULT_WORKFLOW, min_length=1)


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Plan from the record and one qstat listing, then submit what is missing."""
    store, transfer = ctx.services.store, ctx.services.transfer
    if store is None:
        return Outcome.missing("store", "recover_workflow reads the workflow's record there")
    if is_template(params.workflow):
        return Outcome.failed("no workflow: the event is not about a workflow's job or "
                              "transfer", retryable=False)
    from watcher.workflows.complete import CompleteError, Completer  # late: watcher.actions.base

    completer = Completer(store, ctx.pbs, owner=ctx.idempotency_key, now=lambda: ctx.now,
                          transfer=(lambda: transfer) if transfer is not None else None)
    try:
        done = await completer.complete(params.workflow)
    except CompleteError as exc:
        return Outcome.failed(str(exc), retryable=exc.retryable)
    if not done:
        return Outcome.done(f"{params.workflow}: nothing to recover")
    return Outcome.done(f"{params.workflow}: " + "; ".join(done), submitted=done)
