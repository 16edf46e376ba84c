"""Processes that still have something to do with a directory: their command line, working
directory or environment names it. What a demo leaves behind must be none."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def leftovers(root: Path) -> list[str]:
    """`ps` lines of processes (other than this one) tied to `root`."""
    mark = str(root)
    listed = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    found = []
    for line in listed:
        pid = int(line.split(None, 1)[0])
        if pid != os.getpid() and (mark in line or _tied(pid, mark)):
            found.append(line.strip())
    return found


def _tied(pid: int, mark: str) -> bool:
    proc = Path("/proc") / str(pid)
    try:
        return (os.readlink(proc / "cwd").startswith(mark)
                or mark.encode() in (proc / "environ").read_bytes())
    except OSError:  # gone meanwhile, or another user's process
        return False
