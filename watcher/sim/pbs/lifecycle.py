"""How a job moves from running to history: start, the MoM's obit, exiting, finished.

PBS's final substate says how a job ended: 92 exit 0, 93 non-zero exit or a resource limit
(walltime: Exit_status -29), 91 deleted. The scheduler's "Job run at ..." comment gets a
suffix: " and finished", " and failed", " and exceeded resource walltime", " and terminated".
"""

from __future__ import annotations

import os
import sqlite3

from watcher.sim.pbs import accounting, dependencies, model
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.model import EXITING, FAILED, FINISHED, PRERUN, TERMINATED, Job
from watcher.sim.pbs.resources import exec_strings
from watcher.sim.pbs.scheduler import Placement, chunk_amounts
from watcher.sim.pbs.states import set_state
from watcher.sim.pbs.timefmt import comment_time

WALLTIME_EXCEEDED = -29  # JOB_EXEC_KILL_WALLTIME
_COMMENT_MAX = 255  # longer scheduler comments are cut to 252 characters plus "..."


def start(conn: sqlite3.Connection, job: Job, placement: Placement, fx: Effects,
          home: str | None = None) -> None:
    """The scheduler ran the job: R/41 until its runner reports the session (R/42)."""
    exec_host, exec_vnode = exec_strings(placement)
    attrs = job.attrs
    attrs.update(exec_host=exec_host, exec_vnode=exec_vnode, stime=int(fx.now),
                 jobdir=home or os.path.expanduser("~"),
                 run_count=str(int(attrs.get("run_count", "0")) + 1))
    comment = f"Job run at {comment_time(fx.now)} on {exec_vnode}"
    attrs["comment"] = comment if len(comment) <= _COMMENT_MAX else comment[:252] + "..."
    for name in ("Exit_status", "resources_used", "obittime", "session_id"):
        attrs.pop(name, None)
    # [vnode, cpu index, ncpus, host, mpiprocs, other consumables]: the MoM writes
    # PBS_NODEFILE from it, the scheduler counts what running jobs hold
    job.nodes = [[s.vnode, s.index, s.ncpus, s.host, int(s.extra.get("mpiprocs", "1")),
                  chunk_amounts(s.extra)] for s in placement]
    job.obit, job.runner_pid = None, None
    set_state(job, "R", PRERUN, fx.now)
    dependencies.parent_started(conn, job, fx)
    model.save(conn, job)
    fx.account("S", job.jobid, accounting.start_message(job))


def exiting(job: Job, fx: Effects) -> None:
    """The runner's obit arrived: E/50 with Exit_status and the final resources_used."""
    obit = job.obit or {}
    attrs = job.attrs
    if obit.get("exit_status") is not None:
        attrs["Exit_status"] = str(obit["exit_status"])
    if obit.get("resources_used"):
        attrs["resources_used"] = obit["resources_used"]
    attrs["obittime"] = int(obit.get("end", fx.now))
    set_state(job, "E", EXITING, fx.now)


def final_substate(job: Job) -> int:
    """The F substate a finished job ends in: 91 deleted, 92 exit 0, 93 otherwise."""
    if job.deleting:
        return TERMINATED
    return FINISHED if job.attrs.get("Exit_status") == "0" else FAILED


def finish(conn: sqlite3.Connection, job: Job, fx: Effects) -> None:
    """E -> F: comment suffix, history timestamp, the E record, then the dependents."""
    substate = final_substate(job)
    status = job.attrs.get("Exit_status")
    suffix = {TERMINATED: " and terminated", FINISHED: " and finished"}.get(substate)
    if suffix is None:
        suffix = (" and exceeded resource walltime" if status == str(WALLTIME_EXCEEDED)
                  else " and failed")
    if "comment" in job.attrs:
        job.attrs["comment"] += suffix
    job.attrs["Stageout_status"] = "1"
    to_history(job, substate, fx)
    model.save(conn, job)
    if "stime" in job.attrs:
        fx.account("E", job.jobid, accounting.end_message(job, job.attrs["obittime"]))
    how = "terminated" if substate == TERMINATED else "exited"
    dependencies.parent_ended(conn, job, how, fx)


def to_history(job: Job, substate: int, fx: Effects) -> None:
    """Move into history (F; a subjob X, expired); the nodes it held are free again."""
    set_state(job, "X" if job.kind == "subjob" else "F", substate, fx.now)
    job.attrs["history_timestamp"] = int(fx.now)
    job.nodes = None
    job.runner_pid = None
