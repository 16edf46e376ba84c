"""`qselect`: the ids of the jobs matching the criteria, one a line; nothing (exit 0) if none."""

from __future__ import annotations

from watcher.sim.pbs import messages, model
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context

OPTSTRING = "a:A:c:h:HJl:N:p:q:r:s:t:Tu:xP:"
_SUPPORTED = set("HNqsux")


def run(ctx: Context, argv: list[str]) -> int:
    parsed = getopt(argv, OPTSTRING)
    if parsed.errors or parsed.operands:
        ctx.err.write(messages.QSELECT_USAGE)
        return 2
    odd = sorted({k for k, _ in parsed.options} - _SUPPORTED)
    if odd:
        ctx.err.write(messages.unsupported("qselect", f"option -{odd[0]}"))
        return 2
    if not ctx.connect():
        return messages.ECONNREFUSED
    opts = dict(parsed.options)
    history = "x" in opts or "H" in opts
    states = "FM" if "H" in opts else opts.get("s", "")
    users = set(opts["u"].split(",")) if "u" in opts else None
    queue = opts.get("q", "").split("@")[0]
    jobs = model.load_where(ctx.conn, "1" if history else "state != 'F'")
    for job in jobs:
        if states and job.state not in states:
            continue
        if users is not None and job.owner not in users:
            continue
        if queue and job.attrs["queue"] != queue:
            continue
        if "N" in opts and job.attrs["Job_Name"] != opts["N"]:
            continue
        ctx.out.write(job.jobid + "\n")
    return 0
