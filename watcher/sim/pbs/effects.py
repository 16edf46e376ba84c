"""Side effects of job changes that are not rows in the datastore: accounting and signals."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass

from watcher.sim.pbs import accounting
from watcher.sim.pbs.model import Job
from watcher.sim.pbs.paths import SimPaths


@dataclass
class Effects:
    """Used by the server and by the shims (qdel acts on running jobs directly)."""

    paths: SimPaths
    now: float

    def account(self, rtype: str, jobid: str, message: str) -> None:
        """Write an accounting record (`rtype` E, D, ...) stamped with this change's time."""
        accounting.write(self.paths.accounting_dir, rtype, jobid, message, self.now)

    def terminate(self, job: Job) -> None:
        """Ask the job's runner (its MoM) to kill it: SIGTERM, then SIGKILL after kill_delay."""
        if job.runner_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(job.runner_pid, signal.SIGTERM)
