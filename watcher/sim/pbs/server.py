"""The simulator's server process: a loop of short transactions, one tick apart.

Each tick it aborts jobs whose dependency was rejected, turns runner obits into E (exiting),
moves jobs that were E for a whole tick into history (F), requeues jobs whose runner vanished,
and schedules queued jobs FIFO onto free vnodes, starting one runner (MoM) per job.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from watcher.sim.pbs import (
    arrays,
    cluster,
    dependencies,
    lifecycle,
    model,
    scheduler,
    sigcmds,
    store,
)
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.model import (
    ABORT,
    PRERUN,
    QUEUED,
    RUNNING,
    SCHSUSP,
    SUSPEND,
    TERMINATED,
    Job,
)
from watcher.sim.pbs.mom_files import user_home
from watcher.sim.pbs.paths import SimPaths
from watcher.sim.pbs.resources import parse_select
from watcher.sim.pbs.states import reevaluate, set_state

_ROOT = str(Path(__file__).resolve().parents[3])
_RUNNER_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from watcher.sim.pbs.mom import main; main(sys.argv[2:])")
_PRERUN_GRACE = 10.0  # seconds a job may sit in R/41 without a live runner before requeue
_MAX_RUN_ATTEMPTS = 20  # then PBS puts the job on system hold


class Server:
    """One running server; `run()` returns after SIGTERM/SIGINT."""

    def __init__(self, paths: SimPaths) -> None:
        self.paths = paths
        self.conn = store.connect(paths.db)
        self.stopping = False
        self.children: list[subprocess.Popen[bytes]] = []

    def run(self) -> None:
        """Tick until SIGTERM or SIGINT; a failed tick is logged and the loop goes on."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        log("server started")
        while not self.stopping:
            started = time.time()
            settings = store.settings(self.conn)
            try:
                self.tick(started, settings)
            except Exception as exc:  # keep serving; a bad tick is logged, not fatal
                log(f"tick failed: {exc!r}")
            self.children = [c for c in self.children if c.poll() is None]
            time.sleep(max(0.0, float(settings["tick"]) - (time.time() - started)))
        log("server stopped")

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def tick(self, started: float, settings: dict[str, object]) -> None:
        """One pass: aborts, finishes and obits in one transaction, then scheduling."""
        fx = Effects(self.paths, started)
        with store.transaction(self.conn):
            for job in model.load_where(self.conn, "abort_reason IS NOT NULL AND state IN "
                                        "('Q','H')"):
                dependencies.abort(self.conn, job, job.abort_reason or "", fx)
            for job in model.load_where(self.conn, "state='E' AND changed < ?", (started,)):
                self._finish(job, fx)
            for job in model.load_where(self.conn, "state='R' AND obit IS NOT NULL"):
                self._obit(job, fx)
            for job in model.load_where(self.conn, "state='R' AND obit IS NULL"):
                self._check_runner(job, fx)
            arrays.sync_all(self.conn, fx)
        self._schedule(fx, settings)

    def _finish(self, job: Job, fx: Effects) -> None:
        if job.substate == ABORT:  # deleted by a dependency before it ran
            lifecycle.to_history(job, TERMINATED, fx)
            model.save(self.conn, job)
        else:
            lifecycle.finish(self.conn, job, fx)

    def _deleted(self, job: Job, fx: Effects) -> None:
        """A qdel'd job that never really ran: straight to history as terminated."""
        lifecycle.to_history(job, TERMINATED, fx)
        model.save(self.conn, job)
        dependencies.parent_ended(self.conn, job, "terminated", fx)

    def _obit(self, job: Job, fx: Effects) -> None:
        if job.obit and job.obit.get("never_ran"):
            self._deleted(job, fx)
            return
        if job.attrs.get(sigcmds.RERUN_FLAG) and not job.deleting:
            sigcmds.rerun_ended(job, fx)
            log(f"{job.jobid}: rerun, queued again")
            model.save(self.conn, job)
            return
        lifecycle.exiting(job, fx)
        log(f"{job.jobid}: obit, Exit_status={job.attrs.get('Exit_status')}")
        model.save(self.conn, job)

    def _check_runner(self, job: Job, fx: Effects) -> None:
        """A runner that died without an obit (killed, host rebooted): requeue the job."""
        if job.substate == PRERUN and fx.now - job.changed < _PRERUN_GRACE:
            return
        if job.substate not in (PRERUN, RUNNING) or _runner_alive(self.paths, job.seq):
            return
        if job.deleting:  # qdel'd: its MoM is gone, so is the job
            self._deleted(job, fx)
            return
        log(f"{job.jobid}: runner lost, requeued")
        for name in ("exec_host", "exec_vnode", "session_id"):
            job.attrs.pop(name, None)
        job.nodes, job.runner_pid = None, None
        set_state(job, "Q", QUEUED, fx.now)
        if int(job.attrs.get("run_count", "0")) >= _MAX_RUN_ATTEMPTS:
            job.set_holds(job.holds + "s")
            job.attrs["comment"] = "job held, too many failed attempts to run"
            reevaluate(job, fx.now)
        model.save(self.conn, job)

    def _schedule(self, fx: Effects, settings: dict[str, Any]) -> None:
        started: list[Job] = []
        with store.transaction(self.conn):
            active = model.load_where(self.conn, "state IN ('R','E')")
            self._resume(active, cluster.from_settings(settings), fx)
            # A suspended job's vnodes are free for others (rel_resc() at suspension).
            busy = [n for j in active if j.substate not in (SUSPEND, SCHSUSP)
                    for n in (j.nodes or [])]
            nodes = scheduler.vnodes(cluster.from_settings(settings), busy)
            home = user_home(settings)
            refused: dict[tuple[str, str], str] = {}  # nodes only fill up within a tick
            running: dict[int, int] = {}  # subjobs running per array
            for job in active:
                if job.parent is not None:
                    running[job.parent] = running.get(job.parent, 0) + 1
            parents: dict[int, Job | None] = {}
            for job in model.load_where(self.conn, "state='Q' AND kind != 'array'"):
                if job.parent is not None:
                    if job.parent not in parents:
                        parents[job.parent] = model.load(self.conn, job.parent)
                    if not arrays.may_start(parents[job.parent], running.get(job.parent, 0)):
                        continue
                request = (job.attrs["Resource_List"]["select"],
                           job.attrs["Resource_List"].get("place", "free"))
                comment = refused.get(request)
                if comment is None:
                    chunks = parse_select(request[0])
                    placement = scheduler.place(chunks, request[1], nodes)
                    if placement is not None:
                        lifecycle.start(self.conn, job, placement, fx, home)
                        log(f"{job.jobid}: run on {job.attrs['exec_vnode']}")
                        started.append(job)
                        if job.parent is not None:
                            running[job.parent] = running.get(job.parent, 0) + 1
                        continue
                    comment = refused[request] = scheduler.why_not(chunks, request[1], nodes)
                if job.attrs.get("comment") != comment:
                    job.attrs["comment"] = comment
                    model.save(self.conn, job)
        for job in started:
            self._spawn(job, fx)

    def _resume(self, active: list[Job], specs: list[cluster.VnodeSpec], fx: Effects) -> None:
        """`qsig -s resume` left jobs for the scheduler (R/45): resume each whose cpus on
        its own vnodes are free again, oldest first."""
        for job in active:
            if job.substate != SCHSUSP:
                continue
            busy = [n for j in active if j.substate not in (SUSPEND, SCHSUSP)
                    for n in (j.nodes or [])]
            free = {v.name: v.free for v in scheduler.vnodes(specs, busy)}
            if all(free.get(str(entry[0]), 0) >= int(entry[2]) for entry in job.nodes or []):
                sigcmds.resume(job, fx)
                model.save(self.conn, job)
                log(f"{job.jobid}: resumed")

    def _spawn(self, job: Job, fx: Effects) -> None:
        child = subprocess.Popen(
            [sys.executable, "-IS", "-c", _RUNNER_BOOT, _ROOT, "--home", str(self.paths.home),
             "--seq", str(job.seq)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        self.children.append(child)
        with store.transaction(self.conn):
            current = model.load(self.conn, job.seq)
            if current is None or current.state != "R":
                return
            current.runner_pid = child.pid
            model.save(self.conn, current)
        if current.deleting:
            fx.terminate(current)


def _runner_alive(paths: SimPaths, seq: int) -> bool:
    try:
        fd = os.open(paths.jobs_dir / f"{seq}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def log(message: str) -> None:
    """One line on stderr in the server log's `date;Server;message` form."""
    sys.stderr.write(f"{time.strftime('%m/%d/%Y %H:%M:%S')};Server;{message}\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    """`server --home DIR`: take the lock, write the pidfile, serve until told to stop."""
    paths = SimPaths(Path(argv[argv.index("--home") + 1]))
    paths.make_dirs()
    lock = os.open(paths.lockfile, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + 2.0
    while True:  # a command may probe the lock for a moment: retry briefly
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                log("another server holds the lock")
                return 1
            time.sleep(0.01)
    store.initialise(paths.db)
    tmp = paths.pidfile.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    tmp.replace(paths.pidfile)
    try:
        Server(paths).run()
    finally:
        paths.pidfile.unlink(missing_ok=True)
    return 0
