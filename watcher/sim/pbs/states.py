"""Job state changes, following the server's svr_evaljobstate()/svr_setjobstate() rules."""

from __future__ import annotations

from watcher.sim.pbs.model import DEPNHOLD, HELD, QUEUED, Job


def evaluate(job: Job) -> tuple[str, int]:
    """The state a not-running job should be in given its holds.

    As in PBS, a job held on a dependency keeps substate 22 while any hold remains (even a user
    hold added later), otherwise a held job is H/20 and a job without holds is Q/10.
    """
    if job.state in ("R", "E", "F", "X"):
        return job.state, job.substate
    if job.holds:
        return "H", DEPNHOLD if job.substate == DEPNHOLD else HELD
    return "Q", QUEUED


def set_state(job: Job, state: str, substate: int, now: float) -> None:
    """Move the job; entering Q for the first time sets `etime` (when it became eligible)."""
    if state == "Q" and "etime" not in job.attrs:
        job.attrs["etime"] = int(now)
    if (state, substate) != (job.state, job.substate):
        job.changed = now
    job.state, job.substate = state, substate
    job.attrs["mtime"] = int(now)


def reevaluate(job: Job, now: float) -> None:
    """Move a job that is not running to the state its holds and dependencies call for."""
    set_state(job, *evaluate(job), now)
