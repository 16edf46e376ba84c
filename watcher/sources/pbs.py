"""The PBS source: one `qstat -f -F json -x` per poll, whatever the number of jobs.

Why the plain form, never `qstat ... <ids>`: without ids qstat lists every job the server shows
(history included, thanks to `-x`), which is the only way to discover the user's new jobs, and
one call covers any number of watched jobs. Ids from `extra_ids` (jobs watched although not the
user's, e.g. named in a rule) are picked out of that same listing, so the poll stays one call.
Passing ids would also hit OpenPBS bugs (issue 2672: only the first id is answered in JSON) and
`-u user` mixes a text table into the JSON (PR 2675). The cost of the plain form: on a server
with `query_other_jobs = false` another user's job is not listed, so an extra id of someone
else's job is missing from every answer and, like any missing job, vanishes after two polls.

Healthy means a whole JSON document came back, whatever the exit code (153 comes with
"Unknown Job Id" lines next to a valid document). Unhealthy: qstat could not run, timed out,
the server was unreachable, exit 255, or stdout was not a complete document.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from watcher.events import PBS_JOB
from watcher.pbs.commands import CommandResult, PbsCommands
from watcher.pbs.errors import parse_qstat_stderr
from watcher.pbs.job_ids import IdSet
from watcher.pbs.parse import Select, parse_qstat_attributes
from watcher.sources.base import Observation, Source

QSTAT_ARGS = ("-f", "-F", "json", "-x")
_MAX_SKIPPED_IN_DETAIL = 20


class PbsSource(Source):
    """Watches PBS jobs: the user's own (`watch="mine"`) or all the server shows, plus extras."""

    kind = PBS_JOB

    def __init__(
        self,
        commands: PbsCommands,
        *,
        watch: Literal["mine", "all"] = "mine",
        user: str | None = None,
        extra_ids: Callable[[], Iterable[str]] | None = None,
        name: str = "pbs",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.commands = commands
        self.watch = watch
        self.user = user or getpass.getuser()
        self.extra_ids = extra_ids
        self.name = name
        self._now = now

    async def poll(self) -> Observation:
        """One `qstat -f -F json -x` (finished jobs too), cut down to the jobs watched."""
        at = self._now()
        extra = self.extra_ids() if self.extra_ids else ()
        result = await self.commands.run("qstat", *QSTAT_ARGS)
        select = job_selector(self.watch, self.user, extra)
        return observation_from_result(result, source=self.name, at=at, select=select)


def job_selector(watch: str, user: str, extra_ids: Iterable[str]) -> Select | None:
    """Which listed jobs are watched: None (all of them), or the user's plus the extra ids."""
    if watch == "all":
        return None
    extra = IdSet(extra_ids)
    at_host = user + "@"

    def select(job_id: str, attrs: dict[str, Any]) -> bool:
        owner = attrs.get("Job_Owner")
        if owner.__class__ is str and (owner.startswith(at_host) or owner == user):
            return True  # called for each of a facility's jobs: kept to two C calls
        return job_id in extra

    return select


def observation_from_result(
    result: CommandResult, *, source: str, at: datetime, select: Select | None = None
) -> Observation:
    """Turn one qstat run into an observation (pure: no I/O, testable on recorded output)."""
    detail: dict[str, Any] = {"command": " ".join(result.argv), "returncode": result.returncode}
    info = parse_qstat_stderr(result.stderr)
    if result.returncode is None or result.returncode == 255 or info.unreachable:
        return Observation.failed(source, at, result.describe(), detail)
    doc = parse_qstat_attributes(result.stdout, select=select)
    detail |= {
        "server": doc.server,
        "timestamp": doc.timestamp,
        "stderr": info.other,
        "skipped": [[s.job_id, s.reason] for s in doc.skipped[:_MAX_SKIPPED_IN_DETAIL]],
    }
    # A non-zero exit with no job listed is an answer only when stderr says why job by job
    # (unknown id, finished job). Any other error ("Server shutting down", "End of File", ...)
    # comes with a complete but empty JSON header: read as an answer, every job would vanish.
    explained = info.unknown_ids or info.finished_ids
    if result.returncode != 0 and not doc.jobs and not explained:
        return Observation.failed(source, at, result.describe(), detail)
    if not doc.complete:
        reasons = "; ".join(s.reason for s in doc.skipped[:3])
        return Observation.failed(source, at, f"{result.describe()}: {reasons}", detail)
    return Observation(
        source,
        True,
        at,
        subjects=doc.jobs,
        missing_ok=set(info.unknown_ids),
        detail=detail,
        # Jobs seen but not read, and finished jobs qstat would only show with -x: not gone.
        unreadable={s.job_id for s in doc.skipped if s.job_id} | info.finished_ids,
    )
