"""What a scenario's workflow did, as plain data: read once at the end (`gather`), then judged
by the checks and summarised for the table without any further I/O (`observed`).

Everything comes from where a user would look: the watcher's store (the workflow and its
step log), PBS (`qstat -x` for its jobs), Globus (its tasks), the mailbox and the file system.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watcher.mail.sink import ReceivedMessage

# A job the watcher submitted again because PBS lost it or its walltime killed it.
RESUBMITTED = r"submitted again as \S+.*: job \S+ (is gone from PBS|was killed)"


@dataclass(frozen=True)
class Email:
    """One message, as the report shows it."""

    to: str
    subject: str
    body: str

    @classmethod
    def of(cls, received: ReceivedMessage) -> Email:
        """The message the SMTP sink received, decoded (its plain-text body; empty if none)."""
        message = received.message
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        return cls(str(message["To"] or ", ".join(received.rcpt_tos)),
                   str(message["Subject"] or "").strip(), str(text))


@dataclass(frozen=True)
class Transfer:
    """One Globus task of the workflow: its role (its step: stage-in, stage-out), status and
    label."""

    task_id: str
    role: str
    status: str
    label: str


@dataclass(frozen=True)
class Facts:
    """One workflow at the end of its scenario.

    `jobs` maps each job step (compute, cleanup) to what PBS says of its current job ("held",
    "running", "exit 0", "deleted", "gone"...); `pbs_jobs` counts every job PBS lists for the
    workflow (finished ones too); `log` is the step log as (step, text)."""

    workflow: str
    step: str
    log: tuple[tuple[str, str], ...]
    emails: tuple[Email, ...]
    jobs: Mapping[str, str]
    pbs_jobs: int
    transfers: tuple[Transfer, ...]
    output_arrived: bool
    compute_ran: bool
    cleanup_ran: bool

    def lines(self, pattern: str) -> list[int]:
        """Positions of the step-log lines whose `<step> <text>` matches the regular
        expression `pattern`."""
        found = re.compile(pattern)
        return [i for i, (step, text) in enumerate(self.log) if found.search(f"{step} {text}")]

    def transfers_of(self, role: str) -> list[Transfer]:
        """The workflow's Globus tasks in `role` (stage-in, stage-out)."""
        return [t for t in self.transfers if t.role == role]


def job_state(job: Mapping[str, Any] | None) -> str:
    """A `qstat -f -F json -x` job record in a word or two ("gone" when PBS lost it)."""
    if job is None:
        return "gone"
    state = job.get("job_state")
    if state == "F":
        status = job.get("Exit_status")
        return "deleted" if status is None else f"exit {status}"
    return {"H": "held", "Q": "queued", "R": "running", "E": "exiting"}.get(str(state),
                                                                           str(state))


def observed(facts: Facts) -> str:
    """What happened, in one line for the table (independent of what was expected)."""
    parts = [facts.step]
    vanished, again = len(facts.lines("vanished from PBS")), len(facts.lines(RESUBMITTED))
    if vanished or again:
        parts.append(f"{vanished} job(s) vanished, {again} resubmitted")
    parts.append(", ".join(f"{role} {state}" for role, state in facts.jobs.items()))
    moved = [f"{t.role} {t.status.lower()}" for t in facts.transfers]
    if facts.lines("waits for credentials"):
        moved.insert(0, "credentials waited for")
    parts.append(", ".join(moved) or "no transfer")
    parts.append(f"{len(facts.emails)} email(s)")
    parts.append("output arrived" if facts.output_arrived else "no output staged out")
    return "; ".join(parts)
