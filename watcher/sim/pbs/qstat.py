"""`qstat`: the job table, `-f` (text or `-F json`) and `-x` history, with PBS's exit codes.

Each operand is looked up separately, as qstat.c does: an unknown id prints
`qstat: Unknown Job Id <id>` (153), a finished job without -x prints the "use -x or -H" line
(35), the jobs found are still printed, and the exit code is that of the last failure.
"""

from __future__ import annotations

from watcher.sim.pbs import messages, model, pbsjson, render, requests
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context, qualify, seq_of
from watcher.sim.pbs.model import Job

OPTSTRING = "ainpqrstwxu:fGHJMQEBW:T1F:D:"
_UNSUPPORTED = set("ainpqrsuwGHJMQBWT1D")


def run(ctx: Context, argv: list[str]) -> int:
    parsed = getopt(argv, OPTSTRING)
    flags = {letter for letter, _ in parsed.options}
    fmt = next((v for k, v in parsed.options if k == "F"), "default").lower()
    errors = parsed.errors + (fmt not in ("default", "json", "dsv"))
    if fmt != "default" and "f" not in flags:
        ctx.err.write("qstat: conflicting options.\n")
        errors += 1
    if errors:
        ctx.err.write(messages.QSTAT_USAGE)
        return 2
    odd = sorted(flags & _UNSUPPORTED) + (["F dsv"] if fmt == "dsv" else [])
    if odd:
        ctx.err.write(messages.unsupported("qstat", f"option -{odd[0]}"))
        return 2
    if not ctx.connect():
        if fmt == "json":
            ctx.out.write(_document(ctx, []))
        return 255  # qstat exits with the negative connection handle: -1
    return _show(ctx, parsed.operands, full="f" in flags, history="x" in flags,
                 as_json=fmt == "json")


def _show(ctx: Context, operands: list[str], full: bool, history: bool, as_json: bool) -> int:
    server = ctx.settings["server_name"]
    found: list[Job] = []
    failed = 0
    header = not as_json and not full
    if not operands:
        where = "1" if history else "state != 'F'"
        found = model.load_where(ctx.conn, where)
    elif as_json and len(operands) > 1 and ctx.settings["issue_2672"]:
        # OpenPBS issue 2672 (builds of main after 23.06.06): with -F json only the first id
        # is answered; the others are dropped silently, no "Unknown Job Id", exit 0.
        operands = operands[:1]
    for index, operand in enumerate(operands):
        jobs, code = _lookup(ctx, operand, server, history)
        failed = code or failed
        if index == 0 and not jobs:
            header = False  # qstat prints its header with the first operand's answer only
        found.extend(jobs)
    requests.count(ctx, "qstat", ids=0, records=len(found))
    if as_json:
        ctx.out.write(_document(ctx, found))
    elif full:
        ctx.out.write("".join(render.full_text(job, ctx.now) for job in found))
    elif found:
        ctx.out.write((render.TABLE_HEADER if header or not operands else "")
                      + "".join(render.table_row(job) for job in found))
    return messages.exit_code(failed) if failed else 0


def _lookup(ctx: Context, operand: str, server: str, history: bool) -> tuple[list[Job], int]:
    jobid = qualify(operand, server)
    if jobid is None:  # a destination: a queue name, `queue@server` or `@server`
        queue = operand.split("@")[0]
        where = "1" if history else "state != 'F'"
        jobs = model.load_where(ctx.conn, where)
        return [j for j in jobs if not queue or j.attrs["queue"] == queue], 0
    seq = seq_of(jobid, server)
    job = model.load(ctx.conn, seq) if seq is not None else None
    if job is None:
        return [], ctx.job_error(messages.PBSE_UNKJOBID, jobid)
    if job.state == "F" and not history:
        ctx.err.write(f"qstat: {jobid} {messages.ERROR_TEXT[messages.PBSE_HISTJOBID]}, "
                      "use -x or -H to obtain historical job information\n")
        return [], messages.PBSE_HISTJOBID
    return [job], 0


def _document(ctx: Context, jobs: list[Job]) -> str:
    trees = [(job.jobid, render.json_tree(job, ctx.now)) for job in jobs]
    return pbsjson.document(int(ctx.now), messages.PBS_VERSION, ctx.server_name, trees)
