"""`qdel`, `qhold`, `qrls`: one request per job id, errors printed per id like prt_job_err().

The exit code is the PBS error number of the last failure modulo 256 (153 unknown job,
35 finished job, 159 unauthorized), 1 for a malformed id, 0 when every id succeeded.

Arrays (req_delete.c, req_holdjob.c): `qdel N[]` deletes every subjob not yet ended and then
the array; `qdel N[i]` or `N[1-5]` deletes those subjobs (an ended one:
"Request invalid for finished array subjob"). Holds apply to a job or a whole array only: a
held array starts no more subjobs; `qhold`/`qrls` of a subjob is an "Invalid request".
"""

from __future__ import annotations

import time
from collections.abc import Callable

from watcher.sim.pbs import arrays, dependencies, lookup, messages, model, store
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context, qualify
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.lifecycle import to_history
from watcher.sim.pbs.lookup import Target
from watcher.sim.pbs.model import TERMINATED, Job
from watcher.sim.pbs.states import reevaluate

Action = Callable[[Target, Effects], int]
_HOLD_LETTERS = set("uosp")


def for_each(ctx: Context, operands: list[str], action: Action) -> int:
    """Apply `action` to each job in its own transaction; returns the command's exit code."""
    if not ctx.connect():
        return messages.ECONNREFUSED
    server = ctx.settings["server_name"]
    failed = 0
    for operand in operands:
        jobid = qualify(operand, server)
        if jobid is None:
            ctx.err.write(f"{ctx.command}: illegally formed job identifier: {operand}\n")
            failed = 1
            continue
        fx = Effects(ctx.paths, ctx.now)
        with store.transaction(ctx.conn):
            target = lookup.find(ctx.conn, jobid, server)
            if target is None:
                code = ctx.job_error(messages.PBSE_UNKJOBID, jobid)
            elif target.job.owner != ctx.user and not ctx.privileged("operator"):
                code = ctx.job_error(messages.PBSE_PERM, jobid)
            else:
                code = action(target, fx)
        failed = code or failed
    return messages.exit_code(failed) if failed else 0


def qdel(ctx: Context, argv: list[str]) -> int:
    """`qdel [-x] [-W opt] id...`: ends each job; -x also purges a finished one from history."""
    parsed = getopt(argv, "W:x")
    if parsed.errors or not parsed.operands:
        ctx.err.write(messages.QDEL_USAGE)
        return 2
    purge = any(k == "x" for k, _ in parsed.options)

    def delete_job(job: Job, fx: Effects) -> int:
        if job.state == "F":
            if purge:
                ctx.conn.execute("DELETE FROM jobs WHERE seq=? OR parent=?", (job.seq, job.seq))
                return 0
            return ctx.job_error(messages.PBSE_HISTJOBID, job.jobid)
        if job.state == "X":
            return ctx.job_error(messages.PBSE_NOHISTARRAYSUBJOB, job.jobid)
        if job.state == "E" or job.obit is not None:  # it has already ended
            return ctx.job_error(messages.PBSE_BADSTATE, job.jobid)
        fx.account("D", job.jobid, f"requestor={ctx.user}@{ctx.host}")
        if job.state == "R":
            if not job.deleting:
                job.deleting = True
                model.save(ctx.conn, job)
                fx.terminate(job)
            return 0
        was_held = job.state == "H"
        to_history(job, TERMINATED, fx)
        model.save(ctx.conn, job)
        dependencies.parent_ended(ctx.conn, job, "held_abort" if was_held else "terminated", fx)
        return 0

    def delete_array(parent: Job, fx: Effects) -> int:
        if parent.state == "F":
            return delete_job(parent, fx)
        fx.account("D", parent.jobid, f"requestor={ctx.user}@{ctx.host}")
        parent.deleting = True
        model.save(ctx.conn, parent)
        for sub in model.subjobs(ctx.conn, parent.seq):
            if sub.state in ("Q", "H"):
                to_history(sub, TERMINATED, fx)
                model.save(ctx.conn, sub)
            elif sub.state == "R" and not sub.deleting:
                sub.deleting = True
                model.save(ctx.conn, sub)
                fx.terminate(sub)
        arrays.sync(ctx.conn, parent, fx)
        return 0

    def delete(target: Target, fx: Effects) -> int:
        if target.form == "array":
            return delete_array(target.job, fx)
        code = 0
        for job in target.members or [target.job]:
            code = delete_job(job, fx) or code
        if target.form in ("subjob", "range"):
            arrays.sync_parent_of(ctx.conn, (target.members or [target.job])[0], fx)
        return code

    return for_each(ctx, parsed.operands, delete)


def _hold_args(ctx: Context, argv: list[str], usage: str) -> tuple[str, list[str]] | None:
    parsed = getopt(argv, "h:")
    letters = "".join(v.strip() for k, v in parsed.options if k == "h") or "u"
    bad = set(letters) - _HOLD_LETTERS - {"n"} or ("n" in letters and len(letters) > 1)
    if bad:
        ctx.err.write(f"{ctx.command}: illegal -h value\n")
    if parsed.errors or bad or not parsed.operands:
        ctx.err.write(usage)
        return None
    return letters.replace("n", ""), parsed.operands


def _allowed(ctx: Context, letters: str) -> bool:
    if "s" in letters or "p" in letters:
        return ctx.privileged("manager")
    return "o" not in letters or ctx.privileged("operator")


def _whole_jobs_only(ctx: Context, target: Target) -> int:
    """Holds are set on jobs and arrays, never on subjobs (PBSE_IVALREQ)."""
    if target.form in ("subjob", "range"):
        jobid = target.job.jobid if target.form == "subjob" else target.members[0].jobid
        return ctx.job_error(messages.PBSE_IVALREQ, jobid)
    return 0


def qhold(ctx: Context, argv: list[str]) -> int:
    """`qhold [-h letters] id...`: adds the holds; a running job keeps running (no checkpoint)."""
    args = _hold_args(ctx, argv, messages.QHOLD_USAGE)
    if args is None:
        return 2
    letters, operands = args

    def hold(target: Target, fx: Effects) -> int:
        job = target.job
        refused = _whole_jobs_only(ctx, target)
        if refused:
            return refused
        if job.state == "F":
            return ctx.job_error(messages.PBSE_HISTJOBID, job.jobid)
        if not _allowed(ctx, letters):
            return ctx.job_error(messages.PBSE_PERM, job.jobid)
        job.set_holds(job.holds + letters)
        job.attrs["comment"] = f"Job held by {ctx.user} on {time.ctime(ctx.now)}"
        reevaluate(job, ctx.now)  # a running job keeps running: no checkpoint support
        model.save(ctx.conn, job)
        if job.kind == "array":
            arrays.sync(ctx.conn, job, fx)
        return 0

    return for_each(ctx, operands, hold)


def qrls(ctx: Context, argv: list[str]) -> int:
    """`qrls [-h letters] id...`: drops the holds and re-evaluates each job's state."""
    args = _hold_args(ctx, argv, messages.QRLS_USAGE)
    if args is None:
        return 2
    letters, operands = args

    def release(target: Target, fx: Effects) -> int:
        job = target.job
        refused = _whole_jobs_only(ctx, target)
        if refused:
            return refused
        if job.state == "F":
            return ctx.job_error(messages.PBSE_HISTJOBID, job.jobid)
        if not _allowed(ctx, letters):
            return ctx.job_error(messages.PBSE_PERM, job.jobid)
        remaining = "".join(c for c in job.holds if c not in letters)
        if remaining != job.holds:
            job.set_holds(remaining)
            reevaluate(job, ctx.now)
        if not remaining:
            job.attrs.pop("comment", None)
            if job.kind == "array" and "stime" in job.attrs:
                job.attrs["comment"] = "Job Array Began at " + time.strftime(
                    "%a %b %d at %H:%M", time.localtime(job.attrs["stime"]))
        model.save(ctx.conn, job)
        if job.kind == "array":
            arrays.sync(ctx.conn, job, fx)
        return 0

    return for_each(ctx, operands, release)
