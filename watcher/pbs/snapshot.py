"""A PBS job as watcher sees it: the few typed fields rules match on, plus the raw record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobSnapshot:
    """One job from one `qstat -f -F json -x` answer.

    `owner` is the user part of `Job_Owner` (`alice@login1` -> `alice`). `variables` holds
    `Variable_List` with every value as a string, because qstat turns numeric-looking values into
    JSON numbers (`"005"` may even arrive as the invalid `005`). `exit_status` is None while the
    job has not ended, and stays None for a queued job removed by qdel (PBS records none).
    `resources` is `Resource_List` (what was asked, from the qsub line or `#PBS -l` lines alike)
    and `used` is `resources_used`, as qstat printed them; `used` is kept only once the job has
    ended (E, F), because PBS refreshes it while a job runs and every refresh would be a write.
    """

    id: str
    name: str
    owner: str
    queue: str
    state: str
    substate: int | None = None
    exit_status: int | None = None
    hold_types: str = "n"
    comment: str = ""
    run_count: int = 0
    depend: str = ""
    submit_arguments: str = ""
    # When it started and when its obit came (qstat's ctime text, server local time): the
    # times workflow histories show, from PBS rather than from when watcher noticed.
    stime: str = ""
    obittime: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    used: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def workdir(self) -> str | None:
        """`PBS_O_WORKDIR`: where the job was submitted from."""
        return self.variables.get("PBS_O_WORKDIR")

    def attributes(self) -> dict[str, Any]:
        """The fields triggers and templates see, as a plain dict (no raw record)."""
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "queue": self.queue,
            "state": self.state,
            "substate": self.substate,
            "exit_status": self.exit_status,
            "hold_types": self.hold_types,
            "comment": self.comment,
            "run_count": self.run_count,
            "depend": self.depend,
            "submit_arguments": self.submit_arguments,
            "stime": self.stime,
            "obittime": self.obittime,
            "variables": dict(self.variables),
            "workdir": self.workdir,
            "resources": dict(self.resources),
            "used": dict(self.used),
        }
