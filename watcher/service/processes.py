"""Whether a process of this host still runs, from /proc (zombies count as gone).

A SIGKILLed watcher is a zombie until its parent reaps it, and `kill(pid, 0)` succeeds on a
zombie; /proc/<pid>/stat says `Z`. Without /proc (not Linux) `kill(pid, 0)` is the fallback.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(stat: Path) -> list[str] | None:
    """state, ppid, pgrp, ... (the fields after the command name, which may hold spaces)."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # gone while we looked


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (not a zombie)."""
    if not _PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = _stat_fields(_PROC / str(pid) / "stat")
    return fields is not None and fields[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in process group `pgid`."""
    if not _PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for stat in _PROC.glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields is not None and fields[0] != "Z" and fields[2] == str(pgid):
            return True
    return False
