"""The real `watcher run` as a subprocess a crash test can kill, restart and clean up after.

A run is `python -m watcher run` in its own session with `WATCHER_FAILPOINTS` set, so it
SIGKILLs itself at a failpoint (watcher/failpoints.py) with no cleanup, like a power cut. The
next run starts at once, as a systemd unit with `Restart=` would start it: the dead watcher's
children (a `qsub` it had started) may still be running, and the intents it had claimed are still
leased to it. Taking them over safely (after those children) is the restarted watcher's job.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.store.db import Store
from watcher.store.models import Snapshot

_KILLED = re.compile(r"^failpoint (\S+): killing pid (\d+)$", re.MULTILINE)
_STAMPED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \S+ \S+: (.*)$", re.MULTILINE)
# The runner's line for the claim of an intent tried before.
_RESUMED = re.compile(r"^Rule '.*' step \d+ \(\w+\): attempt \d+$")
# How a restarted watcher found an effect of a killed one (the runner's and actions' log lines).
RECOVERIES = {
    "journal": "already done before a restart",
    "intent tag": "was already resubmitted as",
    "stored task": "(submitted by an earlier attempt)",
    "Globus Duplicate": "(Globus already had this submission",
    "qdel of a finished job": "qdel: Job has finished",
}


@dataclass
class Run:
    """One `watcher run` process and the file its output goes to."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def failpoint(self) -> str | None:
        """The failpoint this run died at, if it did."""
        found = _KILLED.search(self.log.read_text(errors="replace"))
        return found.group(1) if found and int(found.group(2)) == self.pid else None

    def resumed_after(self) -> float | None:
        """Seconds from this run's takeover of a dead run's claims to its first claim of an
        intent tried before (None: it took nothing over, or died before claiming)."""
        took = None
        for stamp, text in _STAMPED.findall(self.log.read_text(errors="replace")):
            at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            if took is None and text.startswith("took over "):
                took = at
            elif took is not None and _RESUMED.match(text):
                return (at - took).total_seconds()
        return None

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class WatcherRig:
    """Starts `watcher run` with one settings file and rules directory; stops what it started."""

    def __init__(self, home: Path, config: Path, rules: Path, store: Store,
                 env: Mapping[str, str], *, interval: float = 0.3) -> None:
        self.home, self.config, self.rules, self.store = home, config, rules, store
        self.env, self.interval = dict(env), interval
        self.runs: list[Run] = []

    def start(self, failpoints: str = "", seed: int = 0) -> Run:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_FAILPOINTS")}
        env |= self.env
        if failpoints:
            env |= {"WATCHER_FAILPOINTS": failpoints, "WATCHER_FAILPOINTS_SEED": str(seed)}
        log = self.home / f"run-{len(self.runs):03d}.log"
        argv = [sys.executable, "-m", "watcher", "run", "--rules", str(self.rules),
                "--config", str(self.config), "--interval", str(self.interval)]
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, cwd=self.home,
                                    start_new_session=True)
        run = Run(proc, log)
        self.runs.append(run)
        return run

    def wait(self, run: Run, done: Callable[[], bool], timeout: float) -> str | None:
        """Until the run dies (returns the failpoint it hit) or `done()` holds or `timeout`
        passes (the run is stopped; returns None). Any other death fails the test."""
        deadline = time.monotonic() + timeout
        while run.proc.poll() is None:
            if done() or time.monotonic() > deadline:
                self.stop(run)
                return None
            time.sleep(0.1)
        hit = run.failpoint()
        assert run.proc.returncode == -signal.SIGKILL and hit, (
            f"watcher exited with {run.proc.returncode} outside a failpoint:\n{run.tail()}")
        return hit

    def stop(self, run: Run) -> None:
        """SIGTERM (the watcher finishes its commit), SIGKILL after 15 s; then the group."""
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGTERM)
            try:
                run.proc.wait(15)
            except subprocess.TimeoutExpired:
                run.proc.kill()
                run.proc.wait()
        _kill_group(run.pid)

    def recoveries(self) -> dict[str, int]:
        """How often each way of finding an earlier effect was used, over every run."""
        text = "".join(run.log.read_text(errors="replace") for run in self.runs)
        return {name: text.count(needle) for name, needle in RECOVERIES.items()}

    def close(self) -> None:
        for run in self.runs:
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
            _kill_group(run.pid)


def seen(store: Store, job_id: str) -> bool:
    """Whether a watcher has observed the job (its snapshot is stored)."""
    with store.session(write=False) as session:
        return session.get(Snapshot, ("pbs", job_id)) is not None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
