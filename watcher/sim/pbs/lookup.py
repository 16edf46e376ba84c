"""What a job id names, as chk_job_request()/is_job_array() read it.

`12` a job, `12[]` a whole array, `12[3]` one subjob, `12[1-5]` (or `1,3,5-9:2`) a range of
subjobs. `12` for an array is an unknown job, as on a real server: the array's id is `12[]`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from watcher.sim.pbs import arrays, model
from watcher.sim.pbs.context import parse_id
from watcher.sim.pbs.model import Job


@dataclass
class Target:
    """The job an id names (for a subjob range: its array) and the subjobs of a range."""

    job: Job
    form: str  # job, array, subjob or range
    members: list[Job] = field(default_factory=list)


def find(conn: sqlite3.Connection, jobid: str, server: str) -> Target | None:
    """None when no such job (or array, subjob, range member) exists here."""
    parsed = parse_id(jobid, server)
    if parsed is None:
        return None
    seq, bracket = parsed
    job = model.load(conn, seq)
    if job is None:
        return None
    if bracket is None:
        return Target(job, "job") if job.kind == "job" else None
    if job.kind != "array":
        return None
    if bracket == "":
        return Target(job, "array")
    if bracket.isdigit():
        sub = model.load_subjob(conn, seq, int(bracket))
        return Target(sub, "subjob") if sub is not None else None
    try:
        wanted = {i for r in arrays.parse_ranges(bracket) for i in r.indices}
    except arrays.RangeError:
        return None
    members = [s for s in model.subjobs(conn, seq) if s.idx in wanted]
    return Target(job, "range", members) if members else None
