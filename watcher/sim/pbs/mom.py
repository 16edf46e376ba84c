"""The per-job runner, our MoM: runs the script, enforces walltime, reports the end (obit).

It is its own process in its own session, so jobs keep running and finishing while the server
is stopped; the obit waits in the datastore until the server picks it up. While alive it holds
`mom_priv/jobs/<seq>.lock`, which tells the server that the job still has a MoM.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from watcher.sim.pbs import executables, model, store
from watcher.sim.pbs.model import RUNNING
from watcher.sim.pbs.mom_files import (
    JobFiles,
    deliver,
    job_environment,
    read_pbs_environment,
    user_home,
)
from watcher.sim.pbs.paths import SimPaths
from watcher.sim.pbs.timefmt import hms, parse_duration

WALLTIME_EXCEEDED = -29


class Runner:
    """Runs one job to its end."""

    def __init__(self, paths: SimPaths, seq: int) -> None:
        self.paths, self.seq = paths, seq
        self.conn = store.connect(paths.db)
        settings = store.settings(self.conn)
        self.kill_delay = float(settings["kill_delay"])
        self.home = user_home(settings)
        self.proc: subprocess.Popen[bytes] | None = None
        self.kill_at: float | None = None
        self.walltime_killed = False
        self.paused_since: float | None = None  # suspended (qsig -s suspend) since
        self.paused_for = 0.0  # seconds suspended so far: they are not walltime

    def run(self) -> None:
        """Run the job and write its obit; a job deleted or not running by now never runs."""
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGUSR1, self._on_suspend)
        signal.signal(signal.SIGUSR2, self._on_resume)
        job = model.load(self.conn, self.seq)
        if job is None or job.state != "R" or job.deleting:
            self._obit(None, 0.0, time.time(), never_ran=True)
            return
        files = JobFiles(self.paths, job, self.home)
        files.prepare()
        join = job.attrs["Join_Path"]
        env = job_environment(job, files, read_pbs_environment(self.paths))
        with open(files.stdout, "wb") as out, open(files.stderr, "wb") as err:
            cwd = self.home
            if not os.path.isdir(cwd):  # start_exec.c: said on stderr, the job still runs
                err.write(b"Could not chdir to home directory\n")
                err.flush()
                cwd = "/"
            started = time.time()
            try:
                self.proc = subprocess.Popen(
                    _command(job, files, env), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                    stdout=err if join == "eo" else out, stderr=out if join == "oe" else err,
                    umask=int(job.attrs.get("umask", "077"), 8), start_new_session=True)
            except OSError as exc:  # a program that cannot run: start_exec.c says why on
                # the job's stderr and exits 254; a stand-in process keeps the obit path one
                err.write(f"{exc.filename}: {exc.strerror}\n".encode())
                self.proc = subprocess.Popen(["/bin/sh", "-c", "exit 254"], cwd=cwd,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        self._record_session()
        status = self._wait(parse_duration(job.attrs["Resource_List"].get("walltime", "")))
        ended = time.time()
        _killpg(self.proc.pid, signal.SIGKILL)  # leftovers of the job's session
        deliver(files, job)
        files.cleanup()
        self._obit(status, ended - started - self.paused_for, ended)

    def _on_term(self, signum: int, frame: object) -> None:
        """qdel: SIGTERM to the job's session now, SIGKILL after kill_delay."""
        self._terminate()

    def _on_suspend(self, signum: int, frame: object) -> None:
        """The server suspended the job: stop its processes, stop its walltime."""
        if self.proc is not None and self.paused_since is None and self.kill_at is None:
            _killpg(self.proc.pid, signal.SIGSTOP)
            self.paused_since = time.monotonic()

    def _on_resume(self, signum: int, frame: object) -> None:
        if self.proc is not None and self.paused_since is not None:
            self.paused_for += time.monotonic() - self.paused_since
            self.paused_since = None
            _killpg(self.proc.pid, signal.SIGCONT)

    def _terminate(self) -> None:
        if self.proc is not None and self.kill_at is None:
            _killpg(self.proc.pid, signal.SIGTERM)
            self._on_resume(0, None)  # a stopped job must run to see its SIGTERM
            self.kill_at = time.monotonic() + self.kill_delay

    def _record_session(self) -> None:
        assert self.proc is not None
        with store.transaction(self.conn):
            job = model.load(self.conn, self.seq)
            if job is not None and job.state == "R":
                job.attrs["session_id"] = str(self.proc.pid)
                job.substate = RUNNING
                model.save(self.conn, job)
        if job is None or job.state != "R" or job.deleting:
            self._terminate()  # wiped, or qdel'd before the session was known

    def _wait(self, walltime: int | None) -> int:
        assert self.proc is not None
        start = time.monotonic()
        while True:
            try:
                code = self.proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            paused = self.paused_for + (now - self.paused_since if self.paused_since else 0.0)
            if (walltime is not None and now - start - paused > walltime
                    and not self.walltime_killed):
                self.walltime_killed = True
                self._terminate()
            if self.kill_at is not None and now >= self.kill_at:
                _killpg(self.proc.pid, signal.SIGKILL)
        if self.walltime_killed:
            return WALLTIME_EXCEEDED
        return code if code >= 0 else 256 - code

    def _obit(self, status: int | None, elapsed: float, ended: float,
              never_ran: bool = False) -> None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cput = usage.ru_utime + usage.ru_stime
        obit: dict[str, object] = {"exit_status": status, "end": int(ended),
                                   "never_ran": never_ran}
        if not never_ran:
            obit["resources_used"] = {
                "cpupercent": str(int(100 * cput / elapsed) if elapsed >= 1 else 0),
                "cput": hms(cput), "mem": f"{usage.ru_maxrss}kb", "ncpus": self._ncpus(),
                "vmem": f"{usage.ru_maxrss}kb", "walltime": hms(elapsed)}
        with store.transaction(self.conn):
            self.conn.execute("UPDATE jobs SET obit=? WHERE seq=? AND state='R'",
                              (json.dumps(obit), self.seq))

    def _ncpus(self) -> str:
        job = model.load(self.conn, self.seq)
        return job.attrs["Resource_List"].get("ncpus", "1") if job else "1"


def _command(job: model.Job, files: JobFiles, env: dict[str, str]) -> list[str]:
    """The job's shell on its script, or for `qsub -- prog args` the program itself."""
    executable = job.attrs.get("executable")
    if executable is None:
        return [job.attrs.get("Shell_Path_List", "/bin/bash"), str(files.script)]
    program = executables.decode_executable(executable)
    if "/" not in program:
        program = shutil.which(program, path=env.get("PATH", "")) or program
    return [program, *executables.decode_arguments(job.attrs.get("argument_list", ""))]


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def main(argv: list[str]) -> None:
    """`mom --home DIR --seq N`, started by the server in a new session."""
    paths = SimPaths(Path(argv[argv.index("--home") + 1]))
    seq = int(argv[argv.index("--seq") + 1])
    lock = os.open(paths.jobs_dir / f"{seq}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)
    Runner(paths, seq).run()


if __name__ == "__main__":
    main(sys.argv[1:])

