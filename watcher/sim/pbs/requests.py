"""What the server was asked to serialise: one line per `qstat`/`qselect` call, when counted.

Off by default; a benchmark turns it on with the `count_requests` setting (`PbsSim.configure`)
and reads `server_priv/requests.log`: how many full job records (`qstat`) and bare ids
(`qselect`) each call made the server send. One `O_APPEND` write per call, so concurrent
commands never interleave a line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from watcher.sim.pbs.context import Context
from watcher.sim.pbs.paths import SimPaths


def log_path(paths: SimPaths) -> Path:
    """Where counted requests are appended."""
    return paths.server_priv / "requests.log"


def count(ctx: Context, command: str, *, ids: int, records: int) -> None:
    """Append one line for a `command` call, when the `count_requests` setting is on."""
    if not ctx.settings.get("count_requests"):
        return
    line = json.dumps({"command": command, "ids": ids, "records": records}) + "\n"
    fd = os.open(log_path(ctx.paths), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read(paths: SimPaths) -> list[dict[str, Any]]:
    """Every counted request so far, oldest first ([] before the first)."""
    path = log_path(paths)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]
