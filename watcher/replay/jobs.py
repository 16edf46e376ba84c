"""A job as a timeline writes it (a few fields, the rest defaulted) and as a source reports it.

The attributes are built by `JobSnapshot.attributes()`, the very function the PBS source uses,
so a rule sees a replayed job exactly as it would see one parsed from `qstat -f -F json -x`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from watcher.lang.errors import expected_one_of
from watcher.pbs.meanings import STATES
from watcher.pbs.snapshot import JobSnapshot

# The substate PBS shows for a job resting in each state, so `state: R` alone looks real.
USUAL_SUBSTATE = {"Q": 10, "H": 20, "W": 30, "R": 42, "S": 43, "E": 50, "F": 92}


class JobSpec(BaseModel):
    """One job of a timeline step; every field has a default (see `watcher.replay.timeline`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "STDIN"
    owner: str | None = None
    queue: str = "workq"
    state: str = "Q"
    substate: int | None = None
    exit_status: int | None = None
    hold_types: str | None = None
    comment: str = ""
    run_count: int = Field(default=0, ge=0)
    depend: str = ""
    submit_arguments: str = ""
    variables: dict[str, Any] = Field(default_factory=dict)
    # Resource_List and resources_used as qstat prints them: `{walltime: "01:00:00"}`.
    resources: dict[str, Any] = Field(default_factory=dict)
    used: dict[str, Any] = Field(default_factory=dict)

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if value not in STATES:
            raise ValueError(expected_one_of(STATES, value))
        return value

    @field_validator("variables")
    @classmethod
    def _plain_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if isinstance(item, dict | list):
                raise ValueError(f"variable '{key}' must be a plain value, not a mapping or "
                                 "list (PBS variables are strings)")
        return value

    def attributes(self, job_id: str, user: str) -> dict[str, Any]:
        """The job's attributes, as `PbsSource` would observe them."""
        snapshot = JobSnapshot(
            id=job_id,
            name=self.name,
            owner=self.owner or user,
            queue=self.queue,
            state=self.state,
            substate=self.substate if "substate" in self.model_fields_set
            else USUAL_SUBSTATE.get(self.state),
            exit_status=self.exit_status,
            hold_types=self.hold_types or ("u" if self.state == "H" else "n"),
            comment=self.comment,
            run_count=self.run_count,
            depend=self.depend,
            submit_arguments=self.submit_arguments,
            # qstat reports every value as text; YAML may have read `5` or `true`.
            variables={key: _text(value) for key, value in self.variables.items()},
            resources=dict(self.resources),
            # Like the PBS source: kept once the job has ended.
            used=dict(self.used) if self.state in ("E", "F", "X") else {},
        )
        return snapshot.attributes()


def _text(value: Any) -> str:
    if isinstance(value, bool):  # as the user most likely typed it
        return "true" if value else "false"
    return "" if value is None else str(value)
