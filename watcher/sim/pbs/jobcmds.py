"""`qdel`, `qhold`, `qrls`: one request per job id, errors printed per id like prt_job_err().

The exit code is the PBS error number of the last failure modulo 256 (153 unknown job,
35 finished job, 159 unauthorized), 1 for a malformed id, 0 when every id succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from watcher.sim.pbs import dependencies, messages, model, store
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context, qualify, seq_of
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.lifecycle import to_history
from watcher.sim.pbs.model import TERMINATED, Job
from watcher.sim.pbs.states import reevaluate

Action = Callable[[Job, Effects], int]
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
            seq = seq_of(jobid, server)
            job = model.load(ctx.conn, seq) if seq is not None else None
            if job is None:
                code = ctx.job_error(messages.PBSE_UNKJOBID, jobid)
            elif job.owner != ctx.user and not ctx.privileged("operator"):
                code = ctx.job_error(messages.PBSE_PERM, jobid)
            else:
                code = action(job, fx)
        failed = code or failed
    return messages.exit_code(failed) if failed else 0


def qdel(ctx: Context, argv: list[str]) -> int:
    parsed = getopt(argv, "W:x")
    if parsed.errors or not parsed.operands:
        ctx.err.write(messages.QDEL_USAGE)
        return 2
    purge = any(k == "x" for k, _ in parsed.options)

    def delete(job: Job, fx: Effects) -> int:
        if job.state == "F":
            if purge:
                ctx.conn.execute("DELETE FROM jobs WHERE seq=?", (job.seq,))
                return 0
            return ctx.job_error(messages.PBSE_HISTJOBID, job.jobid)
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


def qhold(ctx: Context, argv: list[str]) -> int:
    args = _hold_args(ctx, argv, messages.QHOLD_USAGE)
    if args is None:
        return 2
    letters, operands = args

    def hold(job: Job, fx: Effects) -> int:
        if job.state == "F":
            return ctx.job_error(messages.PBSE_HISTJOBID, job.jobid)
        if not _allowed(ctx, letters):
            return ctx.job_error(messages.PBSE_PERM, job.jobid)
        job.set_holds(job.holds + letters)
        job.attrs["comment"] = f"Job held by {ctx.user} on {time.ctime(ctx.now)}"
        reevaluate(job, ctx.now)  # a running job keeps running: no checkpoint support
        model.save(ctx.conn, job)
        return 0

    return for_each(ctx, operands, hold)


def qrls(ctx: Context, argv: list[str]) -> int:
    args = _hold_args(ctx, argv, messages.QRLS_USAGE)
    if args is None:
        return 2
    letters, operands = args

    def release(job: Job, fx: Effects) -> int:
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
        model.save(ctx.conn, job)
        return 0

    return for_each(ctx, operands, release)
