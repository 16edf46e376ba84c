"""`qdel`: delete a job. Deleting a job that already finished, or is gone, counts as done."""

from __future__ import annotations

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.actions.pbs_outcome import PBS_JOB_FINISHED, PBS_UNKNOWN_JOB, pbs_outcome


class Params(ActionParams):
    """The job to delete (`qdel <job>`)."""

    job: str


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """qdel is idempotent here: the job being finished or unknown means it is not running."""
    result = await ctx.pbs.run("qdel", params.job)
    return pbs_outcome(result, done_codes=(PBS_JOB_FINISHED, PBS_UNKNOWN_JOB))
