"""Start, stop, wipe and inspect a simulator; used by `watcher sim pbs` and by `PbsSim`."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watcher.sim.pbs import cluster, store
from watcher.sim.pbs.context import server_up
from watcher.sim.pbs.mom_files import user_home, write_pbs_environment
from watcher.sim.pbs.paths import SimPaths
from watcher.sim.pbs.shim import write_shims

_ROOT = str(Path(__file__).resolve().parents[3])
_SERVER_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from watcher.sim.pbs.server import main; sys.exit(main(sys.argv[2:]))")


class SimError(RuntimeError):
    """The simulator could not do what was asked (the message says why)."""


@dataclass
class Started:
    """`process` is set when this call launched the server (the caller may wait() on it)."""

    pid: int
    already_running: bool
    process: subprocess.Popen[bytes] | None = None


def start(home: Path, nodes: int | None = None, server_name: str | None = None,
          timeout: float = 15.0, **settings: Any) -> Started:
    """Launch the server detached (idempotent) and (re)write the shims in DIR/bin.

    `home` is made absolute first: the shims and the MoMs must find it from any directory.
    """
    paths = SimPaths(Path(home).resolve())
    paths.make_dirs()
    write_pbs_environment(paths)
    _check_name(paths, server_name)
    store.initialise(paths.db, nodes=nodes, server_name=server_name, **settings)
    conn = store.connect(paths.db)
    try:
        name = store.settings(conn)["server_name"]
    finally:
        conn.close()
    write_shims(paths, name)
    if server_up(paths):
        return Started(_pid(paths) or 0, True)
    log = open(paths.server_log, "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            [sys.executable, "-IS", "-c", _SERVER_BOOT, _ROOT, "--home", str(paths.home)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    finally:
        log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SimError(f"PBS simulator server exited at start; see {paths.server_log}")
        if server_up(paths) and _pid(paths) == proc.pid:
            return Started(proc.pid, False, proc)
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise SimError(f"PBS simulator server not ready after {timeout:g}s; see {paths.server_log}")


def _check_name(paths: SimPaths, server_name: str | None) -> None:
    if server_name is None or not paths.db.exists():
        return
    conn = store.connect(paths.db)
    try:
        current = store.settings(conn)["server_name"]
        has_jobs = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] > 0
    finally:
        conn.close()
    if current != server_name and has_jobs:
        raise SimError(f"this simulator is server {current!r} and has jobs; "
                       f"wipe it or use another home to rename it {server_name!r}")


def _pid(paths: SimPaths) -> int | None:
    try:
        return int(paths.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def stop(home: Path, timeout: float = 15.0) -> bool:
    """Stop the server (jobs keep running under their runners). False if it was not running."""
    paths = SimPaths(Path(home))
    pid = _pid(paths)
    if not server_up(paths) or pid is None:
        return False
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while server_up(paths):
        if time.monotonic() > deadline:
            _signal(pid, signal.SIGKILL)
            time.sleep(0.1)
            break
        time.sleep(0.02)
    return True


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def wipe(home: Path) -> int:
    """Lose every job, as a destroyed datastore would; running jobs are killed. The job
    sequence continues, the accounting log stays. Returns how many jobs were lost."""
    paths = SimPaths(Path(home))
    if not paths.db.exists():
        return 0
    conn = store.connect(paths.db)
    try:
        with store.transaction(conn):
            count = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            conn.execute("DELETE FROM jobs")
    finally:
        conn.close()
    kill_runners(paths)
    return int(count)


def kill_runners(paths: SimPaths, timeout: float = 2.0) -> None:
    """SIGKILL every runner of this home and every process of its jobs (no leftovers).

    Runners are found by their command line, job processes by the PBS_NODEFILE their MoM
    gave them (it points into this home), so a runner killed before it could record its job's
    session still leaves nothing behind. Passes repeat until nothing is left: a runner may fork
    its job while we look, and SIGKILL takes a moment to land. Meant for a stopped server or a
    wiped datastore (a running server would start new runners for jobs still queued).
    """
    deadline = time.monotonic() + timeout
    while _kill_pass(str(paths.home)) and time.monotonic() < deadline:
        time.sleep(0.02)


def _kill_pass(home: str) -> int:
    runner_tag, job_tag = b"watcher.sim.pbs.mom", f"PBS_NODEFILE={home}/aux/".encode()
    found = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:  # gone, a zombie, or another user's process
            continue
        if (runner_tag in cmdline and home.encode() in cmdline) or job_tag in environ:
            _signal(int(proc.name), signal.SIGKILL)
            found += 1
    return found


def status(home: Path) -> dict[str, Any]:
    """Running or not, the server's pid and settings, and job counts by state."""
    paths = SimPaths(Path(home).resolve())
    running = server_up(paths)
    info: dict[str, Any] = {"home": str(paths.home), "running": running,
                            "pid": _pid(paths) if running else None, "bin_dir": str(paths.bin_dir)}
    if not paths.db.exists():
        return {**info, "server_name": None, "nodes": None, "vnodes": [], "jobs": {}}
    conn = store.connect(paths.db)
    try:
        settings = store.settings(conn)
        counts = dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
    finally:
        conn.close()
    return {**info, "server_name": settings["server_name"], "nodes": settings["nodes"],
            "ncpus_per_node": settings["ncpus_per_node"], "jobs": counts,
            "vnodes": [v.as_setting() for v in cluster.from_settings(settings)],
            "user_home": user_home(settings)}
