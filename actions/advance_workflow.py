"""`advance_workflow`: move a staged workflow on after one of its steps changed.

    do:
      - advance_workflow: {workflow: "{{ workflow.id }}"}

The staging rules (`watcher/workflows/staging.yaml`) run it when a workflow's job ends or
vanishes, or its transfer succeeds or fails. It reads the workflow's record (the tracker has
already written what the event said) and does what the graph says now
(`watcher.workflows.graph_plan`): release the jobs whose `after:` steps all succeeded, start the
transfers whose `after:` steps did, submit or start again a step with retries left or whose job
PBS lost, skip (and delete) the dependants of a failed step, and when nothing is left to wait
for, finish the workflow: done, or failed with its `on_failure` steps started and one mail
saying why.

Exactly once: see `watcher.workflows.graph_run` (tagged submissions marked before their qsub,
transfers keyed per attempt, mails keyed per workflow). Two runs for one workflow take turns
through the lease on its record; a run that finds the lease taken is retried.
"""

from __future__ import annotations

from pydantic import Field

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.templating import is_template


class Params(ActionParams):
    """Which workflow (default: the one whose job or transfer fired the rule)."""

    workflow: str = Field("{{ workflow.id }}", min_length=1)


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Plan from the record, then act on it."""
    store, transfer = ctx.services.store, ctx.services.transfer
    if store is None:
        return Outcome.missing("store", "advance_workflow reads the workflow's record there")
    if is_template(params.workflow):
        return Outcome.failed("no workflow: the event is not about a workflow's job or "
                              "transfer", retryable=False)
    from watcher.workflows.complete import (  # late: watcher.actions.base
        CompleteError,
        Completer,
        run_owner,
    )

    # Its own lease holder name, not the firing's key: a retry of this firing that overlaps
    # it (the ledger's lease on it lapsed) must wait its turn too, or both would act.
    completer = Completer(store, ctx.pbs, owner=run_owner(ctx.idempotency_key),
                          now=lambda: ctx.now,
                          transfer=(lambda: transfer) if transfer is not None else None,
                          smtp=ctx.services.smtp)
    try:
        done = await completer.complete(params.workflow)
    except CompleteError as exc:
        return Outcome.failed(str(exc), retryable=exc.retryable)
    if not done:
        return Outcome.done(f"{params.workflow}: nothing to do")
    return Outcome.done(f"{params.workflow}: " + "; ".join(done), done=done)
