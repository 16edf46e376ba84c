"""Asking `qselect` which jobs exist and which changed, and reading its answer (pure, no I/O).

What the OpenPBS source says (src/cmds/qselect.c, src/lib/Libcmds/cvtdate.c,
src/server/req_select.c), and what follows for the watcher:

- `-t m.<op>.<time>` compares the job's mtime on the server with a time the *client* converts
  from `[[CC]YY]MMDDhhmm[.SS]` in its local zone (cvtdate(), mktime with tm_isdst = -1). The
  short forms are read as a future time (a month before the current one is next year, an
  `hhmm` already past is tomorrow), so `since()` always writes all twelve digits and seconds.
- mtime is set by every save of the job (job_save_db(), src/server/job_recov_db.c): each state
  or substate change (svr_setjobstate), hold, release, qalter, run, the obit, and each status
  update a MoM sends for a running job (stat_update, src/server/node_manager.c). A finished job
  keeps its mtime: svr_setjobstate returns at once for state F. A job lost with the server's
  datastore or aged out of history changes nothing: it is just absent from the id list.
- The server compares with its own clock, the client converts with its own, so the window
  starts `margin` seconds before the last good poll began: a server clock up to `margin` behind
  loses nothing. Within the window a job may be listed twice; reading it again is harmless.
- `-x` on a server without job_history_enable prints "PBS is not configured to maintain job
  history" and exits 0 with no ids (qselect.c resets PBSE_JOBHISTNOTSET to 0): read as an
  answer it would vanish every job, so it is recognised and the question asked without `-x`.
- qselect prints one id a line and nothing when no job matches (exit 0); any other exit is an
  error (the exit code is the PBS error number).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from watcher.pbs.commands import CommandResult
from watcher.pbs.errors import parse_qstat_stderr

_JOB_ID = re.compile(r"^\d+(?:\[\d*\])?(?:\.\S+)?$")
HISTORY_OFF = "not configured to maintain job history"


def since(epoch: float) -> str:
    """The qselect time for `epoch`: CCYYMMDDhhmm.SS in this host's local time, floored.

    In the hour a daylight-saving change repeats, mktime may resolve the text an hour later
    than meant; the time is then written an hour earlier, so the window only grows.
    """
    moment = int(epoch)
    if time.localtime(moment - 3600).tm_isdst != time.localtime(moment).tm_isdst:
        moment -= 3600
    return time.strftime("%Y%m%d%H%M.%S", time.localtime(moment))


def changed_since(epoch: float) -> str:
    """The `-t` argument for "modified at or after `epoch`" (`ge`: mtime has whole seconds)."""
    return f"m.ge.{since(epoch)}"


@dataclass(frozen=True)
class SelectAnswer:
    """One qselect run: the ids (an answer, even when empty), or why there is no answer."""

    ok: bool
    ids: list[str] = field(default_factory=list)
    error: str | None = None
    history_off: bool = False
    stderr: list[str] = field(default_factory=list)


def read_select(result: CommandResult) -> SelectAnswer:
    """Sort a qselect run into ids, "history is off", or no answer (never "no jobs")."""
    info = parse_qstat_stderr(result.stderr)
    if HISTORY_OFF in result.stderr:
        return SelectAnswer(False, error=result.describe(), history_off=True)
    if result.returncode != 0 or info.unreachable:
        return SelectAnswer(False, error=result.describe(), stderr=info.other)
    ids = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    odd = [line for line in ids if not _JOB_ID.match(line)]
    if odd:  # a wrapper's banner, a proxy's page: not an id list
        return SelectAnswer(False, error=f"{result.describe()}: not a job id: {odd[0][:80]!r}")
    return SelectAnswer(True, ids, stderr=info.other)
