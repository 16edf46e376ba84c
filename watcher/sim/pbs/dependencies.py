"""Job dependencies on the server side (OpenPBS req_register.c): register, release, delete.

Registering `afterok:P` on child C puts `beforeok:C` on P and a system hold on C (H/22). When P
ends, each `before*` entry releases or deletes its child:

  beforeok     release if P exited 0, else delete     (qdel of P: delete)
  beforenotok  release if P exited non-zero, else delete (qdel of P: release)
  beforeany    release                                 (qdel of P: release)
  before       released when P starts                  (P deleted before starting: delete)

A child deleted while it is held deletes all of its own dependents in turn, so chains collapse;
each deletion writes the accounting `A` record "Job deleted as result of dependency on job P".
"""

from __future__ import annotations

import sqlite3

from watcher.sim.pbs import depend, model
from watcher.sim.pbs.context import qualify, seq_of
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.messages import DEPEND_DELETED, DEPEND_HIST_REJECTED, DEPEND_UNKNOWN
from watcher.sim.pbs.model import ABORT, DEPNHOLD, TERMINATED, Job
from watcher.sim.pbs.states import reevaluate, set_state

_AFTER_OF = {b: a for a, b in depend.BEFORE_OF.items()}


def register(conn: sqlite3.Connection, child: Job, requested: depend.Depend, fx: Effects) -> None:
    """Record what a new job waits for; parents that already ended answer at once."""
    server = child.attrs["server"]
    waits: depend.Depend = []
    for dtype, ids in requested:
        for jid in ids:
            seq = seq_of(jid, server)
            parent = model.load(conn, seq) if seq is not None else None
            if parent is None:
                full = qualify(jid, server) or jid
                child.abort_reason = child.abort_reason or DEPEND_UNKNOWN.format(parent=full)
                depend.add(waits, dtype, full)
            elif parent.state == "F":
                if _rejected(dtype, parent):
                    child.abort_reason = child.abort_reason or DEPEND_HIST_REJECTED.format(
                        parent=parent.jobid)
                    depend.add(waits, dtype, parent.jobid)
            elif not (dtype == "after" and parent.state in ("R", "E")):
                depend.add(waits, dtype, parent.jobid)
                entries = parent.depend
                depend.add(entries, depend.BEFORE_OF[dtype], child.jobid)
                parent.set_depend(entries)
                model.save(conn, parent)
    child.set_depend(waits)
    if depend.waiting(waits):
        child.set_holds(child.holds + "s")
        set_state(child, "H", DEPNHOLD, fx.now)


def _rejected(dtype: str, parent: Job) -> bool:
    """Can a finished parent no longer satisfy `dtype`? A deleted parent (91) counts as not ok,
    as it does for the children it already had (see `_decide`)."""
    failed = parent.substate == TERMINATED or parent.attrs.get("Exit_status", "0") != "0"
    return (dtype == "afterok" and failed) or (dtype == "afternotok" and not failed)


def parent_started(conn: sqlite3.Connection, parent: Job, fx: Effects) -> None:
    """`after` children may run once the parent runs; the parent drops its `before` list."""
    for btype, ids in parent.depend:
        if btype == "before":
            for cid in ids:
                _act(conn, parent, cid, btype, "release", fx)
    parent.set_depend([(t, ids) for t, ids in parent.depend if t != "before"])


def parent_ended(conn: sqlite3.Connection, parent: Job, how: str, fx: Effects) -> None:
    """Release or delete the children. `how`: exited, terminated (qdel), or held_abort."""
    status = int(parent.attrs.get("Exit_status", "0"))
    for btype, ids in parent.depend:
        if btype not in _AFTER_OF:
            continue
        for cid in ids:
            _act(conn, parent, cid, btype, _decide(btype, status, how), fx)


def _decide(btype: str, status: int, how: str) -> str:
    if how == "held_abort":
        return "delete"
    if how == "terminated":
        return "delete" if btype in ("beforeok", "before") else "release"
    if btype == "beforeok":
        return "release" if status == 0 else "delete"
    if btype == "beforenotok":
        return "release" if status != 0 else "delete"
    return "release"


def _act(conn: sqlite3.Connection, parent: Job, cid: str, btype: str, op: str,
         fx: Effects) -> None:
    seq = seq_of(cid, parent.attrs["server"])
    child = model.load(conn, seq) if seq is not None else None
    if child is None or child.state == "F":
        return
    if op == "delete" and (child.substate == ABORT or child.deleting):
        return  # already being deleted (by another parent): one A record, one parent named
    if op == "release":
        child.set_depend(depend.remove(child.depend, _AFTER_OF[btype], parent.jobid))
        if not depend.waiting(child.depend) and child.substate == DEPNHOLD:
            # Still held by someone else? Then it stays H/22, as PBS does.
            child.set_holds(child.holds.replace("s", ""))
            reevaluate(child, fx.now)
        model.save(conn, child)
    else:
        abort(conn, child, DEPEND_DELETED.format(parent=parent.jobid), fx)


def abort(conn: sqlite3.Connection, job: Job, text: str, fx: Effects) -> None:
    """job_abt(): the `A` record, then the job leaves (E/54, history at the next tick)."""
    fx.account("A", job.jobid, text)
    job.abort_reason = None
    if job.state in ("R", "E"):
        job.deleting = True
        model.save(conn, job)
        fx.terminate(job)
        return
    was_held = job.state == "H"
    set_state(job, "E", ABORT, fx.now)
    model.save(conn, job)
    parent_ended(conn, job, "held_abort" if was_held else "terminated", fx)
