"""`qstat`: the job table, `-f` (text or `-F json`) and `-x` history, with PBS's exit codes.

Each operand is looked up separately, as qstat.c does: an unknown id prints
`qstat: Unknown Job Id <id>` (153), a finished job without -x prints the "use -x or -H" line
(35), the jobs found are still printed, and the exit code is that of the last failure.

Job arrays: without `-t` an array shows as its parent `N[]` only; `-t` adds its subjobs after
it; `-J` shows arrays only, and `-J -t` their subjobs only (qstat(1B)). A finished subjob (X)
is shown while its array runs; once the array is finished it is history, like the array.
"""

from __future__ import annotations

from dataclasses import dataclass

from watcher.sim.pbs import lookup, messages, model, pbsjson, render, requests
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context, qualify
from watcher.sim.pbs.model import Job

OPTSTRING = "ainpqrstwxu:fGHJMQEBW:T1F:D:"
_UNSUPPORTED = set("ainpqrsuwGHMQBWT1D")


@dataclass(frozen=True)
class View:
    """Which jobs a listing shows: history (-x), subjobs (-t), arrays only (-J)."""

    history: bool = False
    subjobs: bool = False
    arrays_only: bool = False

    def shows(self, job: Job) -> bool:
        """Whether the listing includes `job`, given -t (subjobs) and -J (arrays only)."""
        if self.arrays_only:
            return job.kind == ("subjob" if self.subjobs else "array")
        return job.kind != "subjob" or self.subjobs


def run(ctx: Context, argv: list[str]) -> int:
    """`qstat` in its default, `-f` and `-F json|dsv` forms; exit status as PBS gives it."""
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
    view = View(history="x" in flags, subjobs="t" in flags, arrays_only="J" in flags)
    return _show(ctx, parsed.operands, full="f" in flags, view=view, as_json=fmt == "json")


def _listing(jobs: list[Job], view: View) -> list[Job]:
    """What a listing shows; without -x a subjob goes when its array is history."""
    current = {j.seq for j in jobs if j.kind == "array" and j.state != "F"}
    return [j for j in jobs if view.shows(j) and (
        view.history or j.parent is None or j.parent in current)]


def _show(ctx: Context, operands: list[str], full: bool, view: View, as_json: bool) -> int:
    server = ctx.settings["server_name"]
    history = view.history
    found: list[Job] = []
    failed = 0
    header = not as_json and not full
    if not operands:
        where = "1" if history else "state != 'F'"
        found = _listing(model.load_where(ctx.conn, where), view)
    elif as_json and len(operands) > 1 and ctx.settings["issue_2672"]:
        # OpenPBS issue 2672 (builds of main after 23.06.06): with -F json only the first id
        # is answered; the others are dropped silently, no "Unknown Job Id", exit 0.
        operands = operands[:1]
    for index, operand in enumerate(operands):
        jobs, code = _lookup(ctx, operand, server, view)
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


def _lookup(ctx: Context, operand: str, server: str, view: View) -> tuple[list[Job], int]:
    jobid = qualify(operand, server)
    if jobid is None:  # a destination: a queue name, `queue@server` or `@server`
        queue = operand.split("@")[0]
        where = "1" if view.history else "state != 'F'"
        jobs = _listing(model.load_where(ctx.conn, where), view)
        return [j for j in jobs if not queue or j.attrs["queue"] == queue], 0
    target = lookup.find(ctx.conn, jobid, server)
    if target is None:
        return [], ctx.job_error(messages.PBSE_UNKJOBID, jobid)
    job = target.job
    finished = job.state == "F" or (job.parent is not None and _array_done(ctx, job))
    if finished and not view.history:
        ctx.err.write(f"qstat: {jobid} {messages.ERROR_TEXT[messages.PBSE_HISTJOBID]}, "
                      "use -x or -H to obtain historical job information\n")
        return [], messages.PBSE_HISTJOBID
    if target.form == "range":
        return target.members, 0
    if target.form == "array" and view.subjobs:
        subjobs = model.subjobs(ctx.conn, job.seq)
        return ([] if view.arrays_only else [job]) + subjobs, 0
    return [job], 0


def _array_done(ctx: Context, subjob: Job) -> bool:
    parent = model.load(ctx.conn, subjob.parent or 0)
    return parent is None or parent.state == "F"


def _document(ctx: Context, jobs: list[Job]) -> str:
    trees = [(job.jobid, render.json_tree(job, ctx.now)) for job in jobs]
    return pbsjson.document(int(ctx.now), messages.PBS_VERSION, ctx.server_name, trees)
