"""`qsub -W block=true`: qsub waits for the job to end and exits with its exit status.

As qsub.c block() and the server's check_block() (svr_jobfunc.c) do it: the job id is printed
at once; when the job ends after running, qsub exits with Exit_status (as exit() keeps it: the
low 8 bits); when it is deleted before it ran, qsub prints `qsub: <id> Job to be deleted at
request of <user>@<host>` (req_delete.c) and exits 3. A signal ends the wait with
`qsub: wait for job <id> interrupted by signal <n>` and exit 2. Only those paths send word to
a blocked qsub in PBS, so a job deleted through a dependency leaves it waiting, here too.
"""

from __future__ import annotations

import signal
import time
from types import FrameType

from watcher.sim.pbs import accounting, model
from watcher.sim.pbs.context import Context

_POLL = 0.1


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise _Interrupted(signum)


def wait(ctx: Context, jobid: str, seq: int) -> int:
    """Block until PBS would send word about `jobid`; returns qsub's exit code."""
    ctx.out.flush()
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        signal.signal(sig, _raise)
    try:
        while True:
            job = model.load(ctx.conn, seq)
            if job is not None and job.state == "F":
                if "Exit_status" in job.attrs:
                    return int(job.attrs["Exit_status"]) % 256
                requestor = _deleted_by(ctx, jobid)
                if requestor is not None:
                    ctx.err.write(f"qsub: {jobid} Job to be deleted at request of {requestor}\n")
                    return 3
            time.sleep(_POLL)
    except _Interrupted as exc:
        ctx.err.write(f"qsub: wait for job {jobid} interrupted by signal {exc.signum}\n")
        return 2


def _deleted_by(ctx: Context, jobid: str) -> str | None:
    """`user@host` of the qdel that deleted the job (its accounting D record), if any."""
    for line in accounting.read_lines(ctx.paths.accounting_dir):
        _, rtype, jid, message = [*line.split(";", 3), "", "", ""][:4]
        if rtype == "D" and jid == jobid and message.startswith("requestor="):
            return message.removeprefix("requestor=")
    return None
