"""`qsig` and `qrerun`, after OpenPBS req_signal.c and req_rerun.c.

qsig [-s signal] ids: a signal name (`SIGKILL`, `KILL`), a number (`9`), `SIGNULL`, or one of
the special signals `suspend`, `resume`, `admin-suspend`, `admin-resume`, which need operator
or manager privilege (else "Unauthorized Request", 159). Only a running job can be signalled
("Request invalid for state of job", 173). A suspended job shows as S (substate 43); its
processes are stopped, its nodes are free for others, and its walltime does not run.
`resume` marks it for the scheduler (substate 45), which resumes it (R/42) once its vnodes are
free; `admin-resume` only resumes what `admin-suspend` suspended, and `resume` not that
(15177, "Job can not be resumed with the requested resume signal"). Accounting: `z` at
suspension, `r` at resumption. For an array: `N[]` signals its running subjobs (the array must
have begun), `N[i]` one running subjob, `N[1-5]` the running ones in the range.

qrerun [-W force] ids (operator or manager): a running job is killed and queued again (Q/10,
an `R` accounting record; run_count counts the next start). A job submitted with `-r n` is
"job is not rerunnable" (190) unless `-W force`; a job not running is 173. For an array, `N[]`
requeues every subjob that ran (the running ones are killed first) and `N[i]` one running
subjob.
"""

from __future__ import annotations

import contextlib
import os
import signal

from watcher.sim.pbs import accounting, arrays, messages, model
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.jobcmds import for_each
from watcher.sim.pbs.lookup import Target
from watcher.sim.pbs.model import PRERUN, QUEUED, RERUN, RUNNING, SCHSUSP, SUSPEND, Job
from watcher.sim.pbs.render import live_usage
from watcher.sim.pbs.states import set_state
from watcher.sim.pbs.timefmt import comment_time

SPECIAL = ("suspend", "resume", "admin-suspend", "admin-resume")
ADMIN_FLAG = "_admin_suspended"  # not a PBS attribute: never printed (not in ATTR_ORDER)
SUSPENDED_SINCE = "_suspended_since"
SUSPENDED_FOR = "_suspended_for"
RERUN_FLAG = "_rerun"
MOM_SUSPEND, MOM_RESUME = signal.SIGUSR1, signal.SIGUSR2  # how the runner is told


def signal_number(name: str) -> int | None:
    """`SIGKILL`, `KILL`, `9`, `SIGNULL` (0) -> the number; None when unknown."""
    if name.isdigit():
        return int(name) if int(name) < signal.NSIG else None
    upper = name.upper()
    if upper in ("SIGNULL", "NULL"):
        return 0
    upper = upper if upper.startswith("SIG") else "SIG" + upper
    member = getattr(signal.Signals, upper, None) if upper in signal.Signals.__members__ else None
    return int(member) if member is not None else None


def _running_members(ctx: Context, target: Target) -> list[Job] | int:
    """The jobs a signal or rerun goes to, or the error number if there are none."""
    if target.form == "job" or target.form == "subjob":
        return [target.job]
    if target.form == "array":
        if target.job.state != "B":
            return messages.PBSE_BADSTATE
        return [s for s in model.subjobs(ctx.conn, target.job.seq) if s.state == "R"]
    members = [s for s in target.members if s.state == "R"]
    return members or messages.PBSE_BADSTATE


def qsig(ctx: Context, argv: list[str]) -> int:
    """`qsig [-s signal] id...`: signals running jobs; suspend/resume need an operator."""
    parsed = getopt(argv, "s:")
    if parsed.errors or not parsed.operands:
        ctx.err.write(messages.QSIG_USAGE)
        return 2
    name = next((v for k, v in reversed(parsed.options) if k == "s"), "SIGTERM")
    special = name if name in SPECIAL else None

    def send(target: Target, fx: Effects) -> int:
        if special and not ctx.privileged("operator"):
            return ctx.job_error(messages.PBSE_PERM, target.job.jobid)
        jobs = _running_members(ctx, target)
        if isinstance(jobs, int):
            return ctx.job_error(jobs, target.job.jobid)
        code = 0
        for job in jobs:
            if target.form == "array" and special and _skip(job, special):
                continue
            code = _signal_one(ctx, job, name, special, fx) or code
        return code

    return for_each(ctx, parsed.operands, send)


def _skip(job: Job, special: str) -> bool:
    """An array's subjobs: suspending skips the suspended ones, resuming the others."""
    suspended = job.substate in (SUSPEND, SCHSUSP)
    return suspended if "suspend" in special else not suspended


def _signal_one(ctx: Context, job: Job, name: str, special: str | None, fx: Effects) -> int:
    if job.state != "R" or job.substate == RERUN or job.deleting:
        return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
    if special is None:
        number = signal_number(name)
        if number is None:
            return ctx.job_error(messages.PBSE_UNKSIG, job.jobid)
        if job.substate not in (RUNNING, SUSPEND, SCHSUSP) or "session_id" not in job.attrs:
            return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
        if number:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(job.attrs["session_id"]), number)
        return 0
    if special.endswith("suspend"):
        if job.substate in (SUSPEND, SCHSUSP):
            return 0
        if job.substate != RUNNING:
            return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
        suspend(ctx, job, fx, admin=special == "admin-suspend")
        return 0
    if job.substate not in (SUSPEND, SCHSUSP):
        return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
    if bool(job.attrs.get(ADMIN_FLAG)) != (special == "admin-resume"):
        return ctx.job_error(messages.PBSE_WRONG_RESUME, job.jobid)
    if special == "admin-resume":
        resume(job, fx)  # without waiting for the scheduler
    else:
        set_state(job, "R", SCHSUSP, fx.now)  # the scheduler resumes it when it can
    model.save(ctx.conn, job)
    return 0


def suspend(ctx: Context, job: Job, fx: Effects, *, admin: bool) -> None:
    """Stop the job's processes (through its MoM), free its vnodes, stop its walltime."""
    used = live_usage(job, fx.now)
    job.attrs[SUSPENDED_SINCE] = fx.now
    if admin:
        job.attrs[ADMIN_FLAG] = True
    set_state(job, "R", SUSPEND, fx.now)
    model.save(ctx.conn, job)
    _tell_mom(job, MOM_SUSPEND)
    fx.account("z", job.jobid, " ".join(f"resources_used.{k}={v}" for k, v in used.items()))


def resume(job: Job, fx: Effects) -> None:
    """Continue the job's processes: R/42 again, "Job run at" comment, the `r` record."""
    since = float(job.attrs.pop(SUSPENDED_SINCE, fx.now))
    job.attrs[SUSPENDED_FOR] = float(job.attrs.get(SUSPENDED_FOR, 0.0)) + fx.now - since
    job.attrs.pop(ADMIN_FLAG, None)
    set_state(job, "R", RUNNING, fx.now)
    job.attrs["comment"] = f"Job run at {comment_time(fx.now)} on {job.attrs['exec_vnode']}"
    _tell_mom(job, MOM_RESUME)
    fx.account("r", job.jobid, "")


def _tell_mom(job: Job, sig: int) -> None:
    if job.runner_pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(job.runner_pid, sig)


def qrerun(ctx: Context, argv: list[str]) -> int:
    """`qrerun [-W force] id...`: requeues running jobs, keeping their ids; operators only."""
    parsed = getopt(argv, "W:")
    values = [v for k, v in parsed.options if k == "W"]
    if parsed.errors or not parsed.operands or any(v != "force" for v in values):
        ctx.err.write(messages.QRERUN_USAGE)
        return 2
    force = bool(values)

    def rerun(target: Target, fx: Effects) -> int:
        if not ctx.privileged("operator"):
            return ctx.job_error(messages.PBSE_PERM, target.job.jobid)
        if target.form == "array":
            return _rerun_array(ctx, target.job, force, fx)
        if target.form == "range":
            return ctx.job_error(messages.PBSE_IVALREQ, target.job.jobid)
        return _rerun_one(ctx, target.job, force, fx)

    return for_each(ctx, parsed.operands, rerun)


def _rerun_one(ctx: Context, job: Job, force: bool, fx: Effects) -> int:
    if job.attrs.get("Rerunable") == "False" and not force:
        return ctx.job_error(messages.PBSE_NORERUN, job.jobid)
    if job.state != "R" or job.deleting:
        return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
    if job.substate not in (RUNNING, PRERUN) and not force:
        return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
    job.attrs[RERUN_FLAG] = True
    set_state(job, "R", RERUN, fx.now)
    model.save(ctx.conn, job)
    _tell_mom(job, MOM_RESUME)  # a suspended job must run to die
    fx.terminate(job)
    return 0


def _rerun_array(ctx: Context, parent: Job, force: bool, fx: Effects) -> int:
    if parent.state != "B":
        return ctx.job_error(messages.PBSE_BADSTATE, parent.jobid)
    for sub in model.subjobs(ctx.conn, parent.seq):
        if sub.state == "R":
            _rerun_one(ctx, sub, True, fx)
        elif sub.state == "X":
            requeue(sub, fx)
            model.save(ctx.conn, sub)
    arrays.sync(ctx.conn, parent, fx)
    return 0


def requeue(job: Job, fx: Effects) -> None:
    """force_reque(): the job's run is over; it waits in the queue to run again."""
    for name in ("exec_host", "exec_vnode", "session_id", "jobdir", "Exit_status",
                 "resources_used", "obittime", "history_timestamp", "Stageout_status",
                 RERUN_FLAG, ADMIN_FLAG, SUSPENDED_SINCE, SUSPENDED_FOR):
        job.attrs.pop(name, None)
    job.nodes, job.runner_pid, job.obit, job.deleting = None, None, None, False
    set_state(job, "Q", QUEUED, fx.now)


def rerun_ended(job: Job, fx: Effects) -> None:
    """The server got the obit of a job being rerun: the R record, then back to the queue."""
    obit = job.obit or {}
    if obit.get("resources_used"):
        job.attrs["resources_used"] = obit["resources_used"]
    job.attrs["Exit_status"] = "-11"  # JOB_EXEC_RERUN, in the record only
    fx.account("R", job.jobid, accounting.end_message(job, int(obit.get("end", fx.now))))
    requeue(job, fx)
