"""Where a simulator home keeps its files. One object, so no module hard-codes a path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COMMANDS = ("qsub", "qstat", "qdel", "qrls", "qhold", "qselect", "qsig", "qrerun")


@dataclass(frozen=True)
class SimPaths:
    """All paths below one simulator home directory."""

    home: Path

    @property
    def bin_dir(self) -> Path:
        """The shims (qsub, qstat, ...) a test puts first on PATH."""
        return self.home / "bin"

    @property
    def server_priv(self) -> Path:
        """PBS_HOME/server_priv: the database, pid file and accounting."""
        return self.home / "server_priv"

    @property
    def db(self) -> Path:
        """The SQLite database of jobs and settings."""
        return self.server_priv / "sim.db"

    @property
    def pidfile(self) -> Path:
        """The running server's pid, written once it holds `lockfile`."""
        return self.server_priv / "server.pid"

    @property
    def lockfile(self) -> Path:
        """Held (flock) by the live server; commands probe it to decide "reachable"."""
        return self.server_priv / "server.lock"

    @property
    def server_log(self) -> Path:
        """The server's log (PBS_HOME/server_logs)."""
        return self.home / "server_logs" / "server.log"

    @property
    def accounting_dir(self) -> Path:
        """One accounting file per day, as PBS writes them."""
        return self.server_priv / "accounting"

    @property
    def mom_priv(self) -> Path:
        """PBS_HOME/mom_priv (the job scripts' directory lives under it)."""
        return self.home / "mom_priv"

    @property
    def jobs_dir(self) -> Path:
        """Job scripts and runner locks (`<seq>.SC`, `<seq>.lock`)."""
        return self.mom_priv / "jobs"

    @property
    def spool(self) -> Path:
        """Output is spooled here while the job runs and delivered when it ends, like a MoM."""
        return self.home / "spool"

    @property
    def aux(self) -> Path:
        """PBS_NODEFILE files."""
        return self.home / "aux"

    @property
    def tmp(self) -> Path:
        """Per-job TMPDIR parent."""
        return self.home / "tmp"

    @property
    def pbs_environment(self) -> Path:
        """The MoM's environment file (PBS_HOME/pbs_environment), the base of every job's."""
        return self.home / "pbs_environment"

    def make_dirs(self) -> None:
        """Create every directory the server and MoMs write to."""
        for path in (self.bin_dir, self.server_priv, self.accounting_dir, self.server_log.parent,
                     self.jobs_dir, self.spool, self.aux, self.tmp):
            path.mkdir(parents=True, exist_ok=True)
