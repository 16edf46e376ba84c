"""Job arrays (`qsub -J X-Y[:Z][%N]`) on the server side, after OpenPBS array_func.c.

An array is a parent job `N[].server` and one subjob `N[i].server` per index. The simulator
makes every subjob row at submission (PBS makes a subjob when it first runs and shows the
queued ones from the parent's `array_indices_remaining`; what qstat prints is the same).

The parent is Q until a subjob has left the queue, then B (begun, substate 70), H while held
(no subjob starts then), and F once every subjob is X (expired: a subjob's history state).
Its `array_state_count` reads `Queued:q Running:r Exiting:e Expired:x`, and
`array_indices_remaining` the queued indices in range form, `-` when none are left.
Its Exit_status follows update_sj_parent(): each subjob that ends sets it to 0 (exit 0),
1 (exit > 0) or 2 (exit < 0, a PBS error such as -29 walltime), so the last subjob to end
decides it (OpenPBS since 2021, PR 2309); whether every subjob succeeded is only told by the
subjobs themselves. The parent's final substate is 93 (or 91) if any subjob failed (or was
deleted), else 92.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from watcher.sim.pbs import accounting, dependencies, model, store
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.model import DEPNHOLD, FAILED, FINISHED, HELD, QUEUED, TERMINATED, Job
from watcher.sim.pbs.states import set_state

BEGUN = 70  # JOB_SUBSTATE_BEGUN
MAX_ARRAY_SIZE = 10000  # PBS_MAX_ARRAY_JOB_DFL (server max_array_size unset)
INDEX_TAG = "^array_index^"  # PBS_FILE_ARRAY_INDEX_TAG, replaced in output paths
_ARRAY_ONLY = ("array", "array_state_count", "array_indices_submitted",
               "array_indices_remaining", "max_run_subjobs", "depend")


class RangeError(ValueError):
    """Not an index range PBS accepts."""


@dataclass(frozen=True)
class IndexRange:
    """`X-Y:Z`: the indices start, start+step, ... up to end."""

    start: int
    end: int
    step: int

    @property
    def indices(self) -> range:
        """The subjob indices `-J start-end:step` names, `end` included."""
        return range(self.start, self.end + 1, self.step)


def parse_ranges(text: str) -> list[IndexRange]:
    """parse_subjob_index() over a comma list: `X`, `X-Y` or `X-Y:Z` with X < Y and Z >= 1."""
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        bounds, _, step_text = part.partition(":")
        low, dash, high = bounds.partition("-")
        try:
            start = int(low)
            end = int(high) if dash else start
            step = int(step_text) if step_text else 1
        except ValueError:
            raise RangeError(part) from None
        if start < 0 or (dash and (start >= end or step < 1)) or (step_text and not dash):
            raise RangeError(part)
        ranges.append(IndexRange(start, end, step))
    if not ranges:
        raise RangeError(text)
    return ranges


def parse_submitted(text: str) -> IndexRange:
    """qsub -J: one range (`1-50`, `1-50:2`); a single index is no array."""
    ranges = parse_ranges(text)
    if len(ranges) != 1 or "," in text or "-" not in text:
        raise RangeError(text)
    return ranges[0]


def range_text(indices: list[int], step: int) -> str:
    """range_to_str(): runs `a-b:step` (`a-b` for step 1, `a` alone), commas between."""
    parts: list[str] = []
    run: list[int] = []
    for index in sorted(indices):
        if run and index - run[-1] == step:
            run.append(index)
            continue
        if run:
            parts.append(_run_text(run, step))
        run = [index]
    if run:
        parts.append(_run_text(run, step))
    return ",".join(parts)


def _run_text(run: list[int], step: int) -> str:
    if len(run) == 1:
        return str(run[0])
    return f"{run[0]}-{run[-1]}" + (f":{step}" if step > 1 else "")


def make_parent(job: Job, submitted: IndexRange, text: str, max_run: str | None) -> None:
    """Turn a new job into an array parent (before it is inserted)."""
    job.kind = "array"
    count = len(submitted.indices)
    job.attrs.update(array="True", array_indices_submitted=text,
                     array_indices_remaining=range_text(list(submitted.indices),
                                                        submitted.step),
                     array_state_count=state_count({"Q": count}))
    if max_run is not None:
        job.attrs["max_run_subjobs"] = max_run


def create_subjobs(conn: sqlite3.Connection, parent: Job) -> None:
    """One queued subjob row per index, its attributes copied from the parent."""
    submitted = parse_submitted(parent.attrs["array_indices_submitted"])
    base = {k: v for k, v in parent.attrs.items() if k not in _ARRAY_ONLY}
    base["array_id"] = parent.jobid
    base["Hold_Types"] = "n"
    for index in submitted.indices:
        attrs = dict(base, array_index=str(index))
        sub = Job(store.next_row(conn), "Q", QUEUED, attrs, parent.script,
                  changed=parent.changed, kind="subjob", parent=parent.seq, idx=index)
        model.insert(conn, sub)


def state_count(counts: dict[str, int]) -> str:
    """update_subjob_state_ct(): only these four are printed."""
    return (f"Queued:{counts.get('Q', 0)} Running:{counts.get('R', 0)} "
            f"Exiting:{counts.get('E', 0)} Expired:{counts.get('X', 0)}")


def may_start(parent: Job | None, running: int) -> bool:
    """A queued subjob runs only while its array is Q or B (not held, not being deleted)
    and below the array's max_run_subjobs."""
    if parent is None or parent.state not in ("Q", "B") or parent.deleting:
        return False
    limit = parent.attrs.get("max_run_subjobs")
    return limit is None or running < int(limit)


def sync(conn: sqlite3.Connection, parent: Job, fx: Effects) -> None:
    """Bring the parent up to date with its subjobs; the array ends when they all have."""
    if parent.state == "F":
        return
    subs = model.subjobs(conn, parent.seq)
    before = (parent.state, parent.substate, dict(parent.attrs))
    counts: dict[str, int] = {}
    for sub in subs:
        letter = "R" if sub.state == "S" else sub.state
        counts[letter] = counts.get(letter, 0) + 1
    queued = [s.idx for s in subs if s.state == "Q" and s.idx is not None]
    step = parse_submitted(parent.attrs["array_indices_submitted"]).step
    parent.attrs["array_state_count"] = state_count(counts)
    parent.attrs["array_indices_remaining"] = range_text(queued, step) or "-"
    ended = sorted((s for s in subs if s.state == "X" and "Exit_status" in s.attrs),
                   key=lambda s: (s.attrs.get("history_timestamp", 0), s.idx or 0))
    if ended:
        parent.attrs["Exit_status"] = str(_parent_status(int(ended[-1].attrs["Exit_status"])))
    started = [s.attrs["stime"] for s in subs if "stime" in s.attrs]
    if started and "stime" not in parent.attrs:
        parent.attrs["stime"] = min(started)
        parent.attrs["comment"] = "Job Array Began at " + time.strftime(
            "%a %b %d at %H:%M", time.localtime(min(started)))
    if subs and all(s.state == "X" for s in subs):
        _finish(conn, parent, subs, fx)
        return
    if parent.holds:
        set_state(parent, "H", DEPNHOLD if parent.substate == DEPNHOLD else HELD, fx.now)
    elif any(_begun(s) for s in subs):
        set_state(parent, "B", BEGUN, fx.now)
    else:
        set_state(parent, "Q", QUEUED, fx.now)
    if before != (parent.state, parent.substate, parent.attrs):
        model.save(conn, parent)


def _begun(sub: Job) -> bool:
    """Counts toward "begun": left the queue, except a subjob deleted before it ran."""
    return sub.state != "Q" and not (sub.state == "X" and "stime" not in sub.attrs)


def _parent_status(status: int) -> int:
    return 1 if status > 0 else 2 if status < 0 else 0


def _finish(conn: sqlite3.Connection, parent: Job, subs: list[Job], fx: Effects) -> None:
    """chk_array_doneness(): F, the E record if it had begun, then its dependents."""
    begun = parent.state == "B" or "stime" in parent.attrs
    substate = TERMINATED if parent.deleting else next(
        (s.substate for s in subs if s.substate in (FAILED, TERMINATED)), FINISHED)
    parent.attrs["obittime"] = int(fx.now)
    parent.attrs["history_timestamp"] = int(fx.now)
    set_state(parent, "F", substate, fx.now)
    model.save(conn, parent)
    if begun:
        fx.account("E", parent.jobid, accounting.end_message(parent, int(fx.now)))
    how = "terminated" if substate == TERMINATED and parent.deleting else "exited"
    dependencies.parent_ended(conn, parent, how, fx)


def sync_all(conn: sqlite3.Connection, fx: Effects) -> None:
    """Every array not yet finished (the server does this each tick)."""
    # An array is Q, B or H until it is F (the states are listed so the index serves it).
    for parent in model.load_where(conn, "kind='array' AND state IN ('Q', 'B', 'H')"):
        sync(conn, parent, fx)


def sync_parent_of(conn: sqlite3.Connection, job: Job, fx: Effects) -> None:
    """After a command changed a subjob: its array at once, as the server does."""
    if job.parent is not None:
        parent = model.load(conn, job.parent)
        if parent is not None:
            sync(conn, parent, fx)
