"""What PBS codes mean, in words a user reads in an email or in `watcher rules list`.

Pure lookups, from OpenPBS `src/include/job.h` (substates, JOB_EXEC_* exit codes) and qstat's
state letters. Every answer starts with the code itself ("-29: walltime exceeded"), so a reader
can still search the PBS documentation for it, and an unknown code is said to be unknown rather
than guessed at.

Templates reach these through `TEMPLATE_HELPER`, which the engine puts into the template context
as `meanings`: `{{ meanings.exit_status(job.exit_status) }}`,
`{{ meanings.substate(job.substate) }}`, `{{ meanings.state(job.state) }}`.
"""

from __future__ import annotations

from types import SimpleNamespace

STATES: dict[str, str] = {
    "Q": "queued",
    "R": "running",
    "H": "held",
    "W": "waiting for its start time",
    "T": "in transit to another server",
    "E": "exiting",
    "F": "finished",
    "X": "expired subjob",
    "B": "array job begun",
    "M": "moved to another server",
    "S": "suspended",
    "U": "suspended (workstation busy)",
}

SUBSTATES: dict[int, str] = {
    0: "transit in, waiting for commit",
    1: "transit in, ready to commit",
    2: "transit out",
    3: "transit out, ready to commit",
    10: "queued",
    11: "queued, has files to stage in",
    13: "waiting for a synchronised start",
    14: "staging in files, then waiting",
    15: "staging in files, then running",
    16: "stage-in complete",
    20: "held by a user or operator",
    21: "held, waiting for a synchronised start",
    22: "held, waiting on a dependency",
    30: "waiting until its requested start time",
    37: "held, file stage-in failed",
    41: "sent to MoM to run (prerun)",
    42: "running",
    43: "suspended by a client",
    45: "suspended by the scheduler",
    50: "exiting",
    51: "staging out files",
    52: "deleting staged files",
    53: "exit processing done",
    54: "being aborted by the server",
    56: "MoM is telling sister nodes to kill the job",
    57: "epilogue running",
    58: "MoM sent the obituary",
    59: "in site termination",
    60: "rerun: recovering output",
    61: "rerun: staging out",
    62: "rerun: deleting files",
    63: "rerun: MoM deleting the job",
    69: "subjob expired",
    70: "array job begun",
    71: "waiting for node provisioning",
    72: "waiting for sister nodes to join",
    91: "terminated (deleted by qdel)",
    92: "finished",
    93: "failed (non-zero exit)",
    94: "moved to another server",
    153: "MoM waiting for sister nodes to delete the job",
}

# Negative Exit_status values: JOB_EXEC_* (job.h). -31 and -32 only exist in newer PBS Professional.
EXEC_CODES: dict[int, str] = {
    0: "success",
    -1: "could not start, failed before files were staged (not retried)",
    -2: "could not start, failed after files were staged (not retried)",
    -3: "could not start, will be retried",
    -4: "aborted while MoM initialised",
    -5: "aborted while MoM initialised (checkpointed, no migration)",
    -6: "aborted while MoM initialised (checkpointed, may migrate)",
    -7: "restart from checkpoint failed",
    -10: "invalid uid or gid for the job",
    -11: "rerun",
    -12: "checkpointed and killed",
    -13: "bad password",
    -14: "rerun after a sister node failed",
    -15: "requeued to restart from a checkpoint",
    -16: "rejected by a hook, requeued for a later retry",
    -17: "rejected by a hook, deleted",
    -18: "requeued by a hook",
    -19: "deleted by a hook",
    -20: "connection to the mother superior failed, rerun",
    -21: "security breach in the PBS directory",
    -22: "hook error or hook timeout",
    -23: "no Kerberos credentials",
    -24: "ncpus exceeded (burst)",
    -25: "ncpus exceeded (sum)",
    -26: "vmem exceeded",
    -27: "mem exceeded",
    -28: "cput exceeded",
    -29: "walltime exceeded",
    -30: "join job error",
    -31: "hpmem exceeded",
    -32: "rerun of a zombie job",
}

# Linux numbering; PBS reports a job killed by signal N as 256 + N, a shell reports 128 + N.
SIGNALS: dict[int, str] = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ",
}  # fmt: skip

_SIGNAL_BASE = 256
_SHELL_SIGNAL_BASE = 128
_MAX_SIGNAL = 64


def _signal(number: int) -> str:
    name = SIGNALS.get(number)
    return f"signal {number} ({name})" if name else f"signal {number}"


def exit_status_meaning(code: int | None) -> str:
    """`Exit_status` in words. None means PBS recorded none: the job was deleted before it ran."""
    if code is None:
        return "no exit status (deleted before it ran)"
    if code in EXEC_CODES:
        return f"{code}: {EXEC_CODES[code]}"
    if code < 0:
        return f"{code}: unknown PBS execution error"
    if code > _SIGNAL_BASE:
        return f"{code}: killed by {_signal(code - _SIGNAL_BASE)}"
    text = f"{code}: the job script exited with {code}"
    if _SHELL_SIGNAL_BASE < code <= _SHELL_SIGNAL_BASE + _MAX_SIGNAL:
        # bash reports a child killed by signal N as 128 + N; a hint, not a certainty.
        text += f" (often a command killed by {_signal(code - _SHELL_SIGNAL_BASE)})"
    return text


def substate_meaning(substate: int | str | None) -> str:
    """A numeric substate in words; qstat may hand it over as a number or a numeric string."""
    if substate is None or substate == "":
        return "no substate"
    try:
        number = int(substate)
    except (TypeError, ValueError):
        return f"{substate}: not a PBS substate"
    return f"{number}: {SUBSTATES.get(number, 'unknown substate')}"


def state_meaning(state: str | None) -> str:
    """A one-letter job state in words."""
    if not state:
        return "no state"
    return f"{state}: {STATES.get(state, 'unknown state')}"


TEMPLATE_HELPER = SimpleNamespace(
    exit_status=exit_status_meaning, substate=substate_meaning, state=state_meaning
)
