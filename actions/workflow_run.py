"""What `recover_workflow` and `advance_workflow` share: one run of the workflow completer
(`watcher.workflows.complete`) for the workflow a rule names, as an action's outcome."""

from __future__ import annotations

from watcher.actions.base import ActionContext, Outcome
from watcher.templating import is_template

DEFAULT_WORKFLOW = "{{ workflow.id }}"


async def run_completer(ctx: ActionContext, workflow: str, *, action: str, idle: str,
                        fact: str, mail: bool) -> Outcome:
    """Complete `workflow` once; `idle` is the outcome's text when there was nothing to do,
    `fact` the key the done steps are given under, `mail` whether the run may send mail."""
    store, transfer = ctx.services.store, ctx.services.transfer
    if store is None:
        return Outcome.missing("store", f"{action} reads the workflow's record there")
    if is_template(workflow):
        return Outcome.failed("no workflow: the event is not about a workflow's job or "
                              "transfer", retryable=False)
    from watcher.workflows.complete import CompleteError, Completer  # late: watcher.actions.base

    completer = Completer(store, ctx.pbs, owner=ctx.idempotency_key, now=lambda: ctx.now,
                          transfer=(lambda: transfer) if transfer is not None else None,
                          smtp=ctx.services.smtp if mail else None)
    try:
        done = await completer.complete(workflow)
    except CompleteError as exc:
        return Outcome.failed(str(exc), retryable=exc.retryable)
    if not done:
        return Outcome.done(f"{workflow}: {idle}")
    return Outcome.done(f"{workflow}: " + "; ".join(done), **{fact: done})
