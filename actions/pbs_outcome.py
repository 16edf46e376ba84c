"""A PBS command's result as an action's outcome: which exit codes are done, which permanent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.actions.base import Outcome

if TYPE_CHECKING:  # the runner (and its metrics) only when a command runs: see actions.base
    from watcher.pbs.commands import CommandResult

# PBS error numbers arrive as exit codes modulo 256 (pbs_error.h).
PBS_UNKNOWN_JOB = 153  # PBSE_UNKJOBID 15001
PBS_UNAUTHORIZED = 159  # PBSE_PERM 15007
PBS_JOB_FINISHED = 35  # PBSE_HISTJOBID 15139


def pbs_outcome(result: CommandResult, *, done_codes: tuple[int, ...] = ()) -> Outcome:
    """Turn a PBS command's result into an Outcome.

    Exit 0 and `done_codes` are success. Unknown job, permission denied and a finished job are
    permanent. Anything else (server unreachable, timeout, a command that could not start) may
    pass, so it is retryable.
    """
    if result.ok or result.returncode in done_codes:
        return Outcome.done(result.describe())
    permanent = result.returncode in (PBS_UNKNOWN_JOB, PBS_UNAUTHORIZED, PBS_JOB_FINISHED)
    return Outcome.failed(result.describe(), retryable=not permanent)
