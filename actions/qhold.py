"""`qhold`: hold a hold on a job (`qhold -h <hold> <job>`)."""

from __future__ import annotations

from typing import Literal

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.actions.pbs_outcome import pbs_outcome


class Params(ActionParams):
    """The job to hold and the hold type (`qhold -h <hold> <job>`)."""

    job: str
    hold: Literal["u", "o", "s"] = "u"


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Hold the hold; PBS's exit code and stderr are recorded in the outcome."""
    return pbs_outcome(await ctx.pbs.run("qhold", "-h", params.hold, params.job))
