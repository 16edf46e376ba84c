"""A job as the simulator stores it: state columns plus PBS attributes in their string form.

Attribute values are kept as the strings PBS itself holds (qstat's JSON layer guesses types
from them), except times (epoch ints, printed with ctime()), Resource_List / resources_used
(dicts), Variable_List (list of name/value pairs) and depend (list of type/ids).

A job array is one row of kind `array` (id `N[].server`) and one row of kind `subjob` per
index (id `N[i].server`); a subjob's row key is negative, its `parent` and `idx` name it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from watcher.sim.pbs import depend

# Substates (OpenPBS job.h) used by the simulator.
QUEUED, HELD, DEPNHOLD, PRERUN, RUNNING = 10, 20, 22, 41, 42
SUSPEND, SCHSUSP = 43, 45  # suspended by qsig; resume asked, waiting for the scheduler
EXITING, ABORT, RERUN = 50, 54, 60
TERMINATED, FINISHED, FAILED = 91, 92, 93

TIME_ATTRS = ("ctime", "qtime", "etime", "stime", "mtime", "obittime")

# The order qstat -f prints job attributes in (the server's attribute table order).
ATTR_ORDER = (
    "Job_Name", "Job_Owner", "resources_used", "job_state", "queue", "server", "Account_Name",
    "Checkpoint", "ctime", "depend", "Error_Path", "exec_host", "exec_vnode", "Hold_Types",
    "Join_Path", "Keep_Files", "Mail_Points", "Mail_Users", "mtime", "Output_Path", "Priority",
    "qtime", "Rerunable", "Resource_List", "stime", "obittime", "Shell_Path_List", "session_id",
    "jobdir", "substate", "Variable_List", "comment", "etime", "umask", "run_count",
    "Stageout_status", "Exit_status", "Submit_arguments", "executable", "argument_list",
    "array", "array_id", "array_index", "array_state_count", "array_indices_submitted",
    "array_indices_remaining", "history_timestamp", "project",
    "Submit_Host", "max_run_subjobs",
)

_HOLD_ORDER = "sou"


def hold_types(holds: str) -> str:
    """Hold letters in the order PBS encodes them (s, o, u), or `n` for none."""
    letters = "".join(c for c in _HOLD_ORDER if c in holds)
    return letters or "n"


@dataclass
class Job:
    """One row of the `jobs` table."""

    seq: int
    state: str
    substate: int
    attrs: dict[str, Any]
    script: str = ""
    nodes: list[list[Any]] | None = None
    runner_pid: int | None = None
    obit: dict[str, Any] | None = None
    deleting: bool = False
    abort_reason: str | None = None
    changed: float = 0.0
    kind: str = "job"  # job, array (the parent) or subjob
    parent: int | None = None  # a subjob's array
    idx: int | None = None  # a subjob's index

    @property
    def number(self) -> int:
        """The sequence number in the job's id (a subjob's is its array's)."""
        return self.parent if self.parent is not None else self.seq

    @property
    def jobid(self) -> str:
        """The id qstat shows: `N.server`, `N[].server` for an array, `N[i].server` for a subjob."""
        server = self.attrs["server"]
        if self.kind == "array":
            return f"{self.seq}[].{server}"
        if self.kind == "subjob":
            return f"{self.parent}[{self.idx}].{server}"
        return f"{self.seq}.{server}"

    @property
    def owner(self) -> str:
        """The user part of Job_Owner (`user@host`)."""
        return self.attrs["Job_Owner"].split("@")[0]

    @property
    def holds(self) -> str:
        """The hold letters set, "" for none (Hold_Types is `n` then)."""
        value = self.attrs.get("Hold_Types", "n")
        return "" if value == "n" else value

    def set_holds(self, letters: str) -> None:
        """Set Hold_Types from any letters, in PBS's order (see `hold_types`)."""
        self.attrs["Hold_Types"] = hold_types(letters)

    @property
    def shown_state(self) -> str:
        """The state qstat prints: a suspended job is R inside the server, S to the world
        (stat_job.c status_job() fakes S from the job's Suspend flag)."""
        return "S" if self.state == "R" and self.substate in (SUSPEND, SCHSUSP) else self.state

    @property
    def depend(self) -> depend.Depend:
        """The `depend` attribute as (type, ids) pairs, copied so edits do not touch the job."""
        return [(t, list(ids)) for t, ids in self.attrs.get("depend", [])]

    def set_depend(self, value: depend.Depend) -> None:
        """Set `depend`; an empty value removes the attribute, as qstat then omits it."""
        if value:
            self.attrs["depend"] = value
        else:
            self.attrs.pop("depend", None)


COLUMNS = ("seq, state, substate, attrs, script, nodes, runner_pid, obit, deleting, "
           "abort_reason, changed, kind, parent, idx")


def from_row(row: tuple[Any, ...]) -> Job:
    """A job from a row of `SELECT {COLUMNS}`, its JSON columns decoded."""
    (seq, state, substate, attrs, script, nodes, runner_pid, obit, deleting, abort, changed,
     kind, parent, idx) = row
    return Job(seq, state, substate, json.loads(attrs), script,
               json.loads(nodes) if nodes else None, runner_pid,
               json.loads(obit) if obit else None, bool(deleting), abort, changed,
               kind, parent, idx)


def load(conn: sqlite3.Connection, seq: int) -> Job | None:
    """The job with this sequence number, or None when there is none."""
    row = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE seq=?", (seq,)).fetchone()
    return from_row(row) if row else None


def load_where(conn: sqlite3.Connection, where: str = "1", params: tuple[Any, ...] = ()
               ) -> list[Job]:
    """Jobs matching SQL `where` (`?` params), by job number, each subjob after its array."""
    rows = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE {where} ORDER BY seq", params)
    jobs = [from_row(r) for r in rows]
    if any(job.parent is not None for job in jobs):  # SQL's ORDER BY an expression costs 2x
        jobs.sort(key=_submission_order)
    return jobs


def _submission_order(job: Job) -> tuple[int, int]:
    return (job.number, -1 if job.idx is None else job.idx)


def subjobs(conn: sqlite3.Connection, parent: int) -> list[Job]:
    """An array's subjobs by index."""
    return load_where(conn, "parent=?", (parent,))


def load_subjob(conn: sqlite3.Connection, parent: int, idx: int) -> Job | None:
    """Subjob `idx` of array `parent` once it exists as a row, else None."""
    row = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE parent=? AND idx=?",
                       (parent, idx)).fetchone()
    return from_row(row) if row else None


def insert(conn: sqlite3.Connection, job: Job, *, mtime: int | None = None) -> None:
    """Add the job, its mtime stamped now (or `mtime`: a copy made to look old)."""
    if mtime is None:
        stamp_mtime(conn, job)
    else:
        job.attrs["mtime"] = mtime
    conn.execute(f"INSERT INTO jobs ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 _values(job))


def save(conn: sqlite3.Connection, job: Job) -> bool:
    """Write the job back; False when it no longer exists (the datastore was wiped)."""
    stamp_mtime(conn, job)
    values = _values(job)
    cur = conn.execute(
        "UPDATE jobs SET state=?, substate=?, attrs=?, script=?, nodes=?, runner_pid=?, obit=?,"
        " deleting=?, abort_reason=?, changed=?, kind=?, parent=?, idx=? WHERE seq=?",
        (*values[1:], job.seq))
    return cur.rowcount == 1


def stamp_mtime(conn: sqlite3.Connection, job: Job) -> None:
    """Every save of a job sets its mtime to the server's clock, as job_save_db() does
    (OpenPBS src/server/job_recov_db.c: "update mtime before save"). The server saves a job on
    each state or substate change (svr_setjobstate), hold/release, qalter, run, obit and on the
    MoM's status updates (stat_update), so `qselect -t m.gt.<t>` lists every job touched since t.
    A finished job is no longer saved by state changes: svr_setjobstate returns at once for F.
    """
    row = conn.execute("SELECT value FROM settings WHERE key='clock_offset'").fetchone()
    offset = float(json.loads(row[0])) if row else 0.0
    job.attrs["mtime"] = int(time.time() + offset)


def _values(job: Job) -> tuple[Any, ...]:
    return (job.seq, job.state, job.substate, json.dumps(job.attrs), job.script,
            json.dumps(job.nodes) if job.nodes is not None else None, job.runner_pid,
            json.dumps(job.obit) if job.obit is not None else None, int(job.deleting),
            job.abort_reason, job.changed, job.kind, job.parent, job.idx)
