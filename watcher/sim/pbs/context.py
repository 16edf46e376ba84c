"""What every simulated command needs: where the sim lives, who runs it, and the datastore.

"Is the server reachable?" is answered by probing the lock the live server holds, so a stopped
simulator makes every command fail like an unreachable PBS server, even though the datastore
file is still there.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from watcher.sim.pbs import accounting, messages, store
from watcher.sim.pbs.paths import SimPaths

_JOBID = re.compile(r"^(\d+)(\[[0-9,:\-]*\])?(?:\.(.+))?$")


def server_up(paths: SimPaths) -> bool:
    """True while a server process holds its lock (a shared probe never blocks it for long)."""
    try:
        fd = os.open(paths.lockfile, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def current_user() -> str:
    """The login name of the calling user, or its uid as text when it has no password entry."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


SIM_USER_VAR = "PBS_SIM_USER"


def command_user() -> str:
    """Who runs the command: `$PBS_SIM_USER` if set, so a test or the demo can act as the
    site's operator (a name in the `operators` setting) without another Unix account, else
    the real user. Only the simulator reads it; a real PBS knows its users by their login."""
    return os.environ.get(SIM_USER_VAR) or current_user()


@dataclass
class Context:
    """One command invocation."""

    command: str
    paths: SimPaths
    server_name: str
    user: str = field(default_factory=command_user)
    host: str = field(default_factory=socket.gethostname)
    now: float = field(default_factory=time.time)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    _conn: sqlite3.Connection | None = None
    _settings: dict[str, Any] | None = None

    def connect(self) -> bool:
        """Reach the server; on failure print what PBS prints and return False."""
        if server_up(self.paths):
            return True
        self.err.write(f"{messages.CONNECTION_REFUSED}\n{self.command}: cannot connect to "
                       f"server {self.server_name} (errno={messages.ECONNREFUSED})\n")
        return False

    @property
    def conn(self) -> sqlite3.Connection:
        """The simulator's database, opened on first use."""
        if self._conn is None:
            self._conn = store.connect(self.paths.db)
        return self._conn

    @property
    def settings(self) -> dict[str, Any]:
        """The server's settings, read once per command (and its server name with them)."""
        if self._settings is None:
            self._settings = store.settings(self.conn)
            self.server_name = self._settings["server_name"]
        return self._settings

    def job_error(self, pbs_errno: int, jobid: str) -> int:
        """`qdel: Unknown Job Id 12.srv` (prt_job_err); returns the PBS error number."""
        self.err.write(f"{self.command}: {messages.ERROR_TEXT[pbs_errno]} {jobid}\n")
        return pbs_errno

    def privileged(self, level: str) -> bool:
        """Is the user a PBS manager (`level="manager"`) or at least an operator?"""
        managers = self.settings["managers"]
        if level == "manager":
            return self.user in managers
        return self.user in managers or self.user in self.settings["operators"]

    def account(self, rtype: str, jobid: str, message: str) -> None:
        """Write an accounting record (`rtype` E, D, ...) stamped with this command's time."""
        accounting.write(self.paths.accounting_dir, rtype, jobid, message, self.now)

    def close(self) -> None:
        """Close the database if this command opened it."""
        if self._conn is not None:
            self._conn.close()


def qualify(operand: str, server: str) -> str | None:
    """get_server(): `12` -> `12.<server>`; None when it is not a job id at all."""
    match = _JOBID.match(operand)
    if not match:
        return None
    return operand if match.group(3) else f"{operand}.{server}"


def seq_of(jobid: str, server: str) -> int | None:
    """The sequence number if `jobid` names a job (or a whole array, `N[]`) of this server
    (short host names match); None for subjobs and for other servers' jobs."""
    parsed = parse_id(jobid, server)
    if parsed is None or parsed[1] not in (None, ""):
        return None
    return parsed[0]


def parse_id(jobid: str, server: str) -> tuple[int, str | None] | None:
    """(sequence number, what is inside `[...]` or None) if `jobid` is of this server."""
    match = _JOBID.match(jobid)
    if not match:
        return None
    suffix = match.group(3) or server
    same = (suffix == server or server.startswith(suffix + ".")
            or suffix.startswith(server + "."))
    bracket = match.group(2)
    return (int(match.group(1)), bracket[1:-1] if bracket else None) if same else None
