"""`advance_workflow`: move a graph workflow on after one of its steps changed.

    do:
      - advance_workflow: {workflow: "{{ workflow.id }}"}

The staging rules (`watcher/workflows/staging.yaml`) run it when a graph workflow's job ends or
vanishes, or its transfer succeeds or fails. It reads the workflow's record (the tracker has
already written what the event said) and does what the graph says now
(`watcher.workflows.graph_plan`): release the jobs whose `after:` steps all succeeded, start the
transfers whose `after:` steps did, submit or start again a step with retries left, skip (and
delete) the dependants of a failed step, and when nothing is left to wait for, finish the
workflow: done, or failed with its `on_failure` steps started and one mail saying why.

Exactly once: see `watcher.workflows.graph_run` (tagged submissions marked before their qsub,
transfers keyed per attempt, mails keyed per workflow). Two runs for one workflow take turns
through the lease on its record; a run that finds the lease taken is retried.
"""

from __future__ import annotations

from pydantic import Field

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.actions.workflow_run import DEFAULT_WORKFLOW, run_completer


class Params(ActionParams):
    """Which workflow (default: the one whose job or transfer fired the rule)."""

    workflow: str = Field(DEFAULT_WORKFLOW, min_length=1)


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Plan from the record, then act on it."""
    return await run_completer(ctx, params.workflow, action="advance_workflow",
                               idle="nothing to do", fact="done", mail=True)
