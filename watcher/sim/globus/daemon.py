"""Running the emulator as a background process: `python -m watcher.sim.globus.daemon`.

Home directory layout: `pid` and `url` (present while it runs), `emulator.log`, `state.json`
(the snapshot) and `endpoints.json` (the endpoint configuration). `start_daemon` spawns the
process in its own session and returns once the admin health route answers; `stop_daemon`
sends SIGTERM, and the process saves its snapshot before it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from watcher.sim.globus.admin_client import AdminClient
from watcher.sim.globus.emulator import DEFAULT_BANDWIDTH, Emulator
from watcher.sim.globus.server import EmulatorServer


class DaemonError(Exception):
    """The daemon did not start or stop as asked."""


def serve(home: Path, port: int = 0, bandwidth: float = DEFAULT_BANDWIDTH) -> None:
    """Serve in the foreground until SIGTERM/SIGINT; the pid and url files exist meanwhile."""
    server = EmulatorServer(Emulator(home, bandwidth=bandwidth), port=port)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    (home / "pid").write_text(f"{os.getpid()}\n")
    (home / "url").write_text(server.url + "\n")
    try:
        done.wait()
    finally:
        server.stop()
        for name in ("url", "pid"):
            (home / name).unlink(missing_ok=True)


def running_url(home: Path) -> str | None:
    """The URL of the emulator running from `home`, if it is alive and answering."""
    pid, url = _read(home / "pid"), _read(home / "url")
    if not pid or not url or not _alive(int(pid)):
        return None
    return url if AdminClient(url, timeout=2).health() else None


def start_daemon(home: Path, port: int = 0, bandwidth: float = DEFAULT_BANDWIDTH,
                 timeout: float = 15.0) -> str:
    """Start the emulator as a detached process under `home`; returns its URL once it listens.
    Raises DaemonError if one already runs there or it exits or stalls for `timeout` s.
    """
    home.mkdir(parents=True, exist_ok=True)
    if running_url(home):
        raise DaemonError(f"already running at {running_url(home)} (home {home})")
    for name in ("url", "pid"):
        (home / name).unlink(missing_ok=True)
    with open(home / "emulator.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watcher.sim.globus.daemon", "--home", str(home),
             "--port", str(port), "--bandwidth", str(bandwidth)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DaemonError(f"the emulator exited with {proc.returncode}; see "
                              f"{home / 'emulator.log'}")
        url = running_url(home)
        if url:
            return url
        time.sleep(0.05)
    proc.terminate()
    raise DaemonError(f"the emulator did not answer within {timeout:.0f}s")


def stop_daemon(home: Path, timeout: float = 15.0) -> bool:
    """Stop the daemon of `home`; False if none was running."""
    pid = _read(home / "pid")
    if not pid or not _alive(int(pid)):
        return False
    os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(int(pid)):
            return True
        time.sleep(0.05)
    raise DaemonError(f"the emulator (pid {pid}) did not stop within {timeout:.0f}s")


def _read(path: Path) -> str | None:
    with contextlib.suppress(OSError):
        return path.read_text().strip() or None
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        # our own child that already exited is a zombie until reaped
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    """`python -m watcher.sim.globus.daemon --home DIR`: serve until SIGTERM."""
    parser = argparse.ArgumentParser(description="Run the watcher Globus emulator.")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bandwidth", type=float, default=DEFAULT_BANDWIDTH)
    args = parser.parse_args(argv)
    serve(args.home, args.port, args.bandwidth)


if __name__ == "__main__":
    main()
