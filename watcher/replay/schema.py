"""The shape of a timeline file as pydantic models, so every problem comes with its data path.

Times are read here as written (an offset or a timestamp); `watcher.replay.load` makes them
absolute and checks what a model cannot (steps in order, rule names that exist).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator

from watcher.actions import ACTIONS
from watcher.lang.durations import parse_duration
from watcher.lang.errors import expected_one_of, type_word
from watcher.replay.jobs import JobSpec
from watcher.replay.timeline import DEFAULT_DOWN_AFTER

_ZERO = re.compile(r"^[0:.]*0[0:.]*[dhms]?$")
_EXPECTED_TIME = ("expected an offset like '40s', '2m', '1h30m' or a timestamp like "
                  "2026-01-05T08:00:00Z")


def utc(value: datetime) -> datetime:
    """A timestamp without a zone is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return utc(raw)
    if isinstance(raw, str):
        try:
            return utc(datetime.fromisoformat(raw.strip()))
        except ValueError:
            pass
    if isinstance(raw, date):
        raise ValueError(f"expected a timestamp with a time of day but got '{raw}'")
    raise ValueError(f"expected a timestamp like 2026-01-05T08:00:00Z but got {_shown(raw)}")


def _offset_or_time(raw: Any) -> timedelta | datetime:
    if isinstance(raw, datetime | date) or (isinstance(raw, str) and "-" in raw[1:]):
        return _timestamp(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"{_EXPECTED_TIME} but got {type_word(raw)}")
    if (raw == 0 if not isinstance(raw, str) else _ZERO.match(raw.strip().lower())):
        return timedelta(0)
    try:
        return parse_duration(raw)
    except ValueError:
        raise ValueError(f"{_EXPECTED_TIME} but got {_shown(raw)}") from None


def _shown(raw: Any) -> str:
    return f"'{raw}'" if isinstance(raw, str | int | float) else type_word(raw)


Time = Annotated[timedelta | datetime, PlainValidator(_offset_or_time)]
Timestamp = Annotated[datetime, PlainValidator(_timestamp)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _ids_as_text(value: Any) -> Any:
    """`12: {...}` and `12.pbs: {...}` are both job ids; YAML reads the first as a number."""
    if isinstance(value, dict):
        return {str(key): {} if job is None else job for key, job in value.items()}
    return value


class StepModel(_Model):
    """One step of a timeline file as written: when, and what PBS or a source shows then."""

    at: Time
    jobs: dict[str, JobSpec] | None = None
    pbs: Literal["down"] | None = None
    error: str | None = None

    @field_validator("jobs", mode="before")
    @classmethod
    def _job_ids(cls, value: Any) -> Any:
        return _ids_as_text(value)

    @model_validator(mode="after")
    def _one_answer(self) -> StepModel:
        if (self.jobs is None) == (self.pbs is None):
            raise ValueError("expected either 'jobs' (what qstat showed) or 'pbs: down' (a "
                             "failed poll)")
        if self.error is not None and self.pbs is None:
            raise ValueError("'error' goes with 'pbs: down'")
        return self


class ExpectModel(_Model):
    """One expected firing in a timeline file: which rule, on what, when."""

    rule: str
    at: Time | None = None
    subject: str | None = None
    action: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("subject", mode="before")
    @classmethod
    def _subject_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) \
            else value

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str | None) -> str | None:
        if value is not None and value not in ACTIONS:
            raise ValueError(expected_one_of(ACTIONS, value))
        return value


class TimelineModel(_Model):
    """A whole timeline file, validated before it is replayed."""

    start: Timestamp | None = None
    user: str | None = None
    email: str | None = None
    down_after: int = Field(default=DEFAULT_DOWN_AFTER, ge=1)
    until: Time | None = None
    steps: list[StepModel] = Field(min_length=1)
    expect: list[ExpectModel] | None = None

    @field_validator("expect", mode="before")
    @classmethod
    def _empty_is_none_expected(cls, value: Any) -> Any:
        return [] if value is None else value
