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
from watcher.actions.workflow_run import DEFAULT_WORKFLOW, run_completer


class Params(ActionParams):
    """Which workflow (default: the one whose job or transfer fired the rule)."""

    workflow: str = Field(DEFAULT_WORKFLOW, min_length=1)


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Plan from the record and one qstat listing, then submit what is missing."""
    return await run_completer(ctx, params.workflow, action="recover_workflow",
                               idle="nothing to recover", fact="submitted", mail=False)
