"""The store's tables. Everything the watcher must remember across a restart lives here.

JSON columns hold plain dicts; they are replaced, not mutated in place (SQLAlchemy does not see
changes inside a dict), so write `row.attrs = new_attrs`. Timestamps are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from watcher.events import Event
from watcher.store.types import JsonDict, UtcDateTime

# Intent statuses. `pending` waits for its time (and its predecessor), `running` is leased to a
# worker, the other four are final. The ledger never writes `failed`; it is kept for intents
# ended by hand, and successors treat it like `dead`.
PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
DEAD = "dead"
SKIPPED = "skipped"
STATUSES = (PENDING, RUNNING, DONE, FAILED, DEAD, SKIPPED)
UNSUCCESSFUL = (FAILED, DEAD, SKIPPED)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (the store refuses naive datetimes)."""
    return datetime.now(UTC)


def _when(**kw: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(sa_type=JsonDict, **kw)


class Snapshot(SQLModel, table=True):
    """The last observed attributes of one job or task, to diff the next observation against."""

    source: str = Field(primary_key=True)
    subject: str = Field(primary_key=True)
    attrs: dict[str, Any] = _json(default_factory=dict)
    seen_at: datetime = _when(default_factory=utcnow)
    # Successful polls in a row that did not list the subject (vanished after two).
    missing_polls: int = 0


class SourceHealth(SQLModel, table=True):
    """Whether a source answers; `down_emitted` makes `source_down` an edge, sent once."""

    __tablename__ = "source_health"

    source: str = Field(primary_key=True)
    healthy: bool = True
    failures: int = 0
    last_ok_at: datetime | None = _when(default=None)
    last_error: str | None = None
    down_emitted: bool = False


class EventRecord(SQLModel, table=True):
    """An event as it was committed, with the firings and intents it caused."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    subject: str = Field(index=True)
    change: str
    at: datetime = _when()
    previous: dict[str, Any] | None = _json(default=None)
    current: dict[str, Any] | None = _json(default=None)
    data: dict[str, Any] = _json(default_factory=dict)

    @classmethod
    def from_event(cls, event: Event) -> EventRecord:
        """A row for `event`, its mappings copied so later changes to the event do not leak in."""
        return cls(
            kind=event.kind,
            subject=event.subject,
            change=event.change,
            at=event.at,
            previous=None if event.previous is None else dict(event.previous),
            current=None if event.current is None else dict(event.current),
            data=dict(event.data),
        )

    def to_event(self) -> Event:
        """The stored event back as an `Event`, equal to the one recorded."""
        return Event(self.kind, self.subject, self.at, self.change, self.previous, self.current,
                     dict(self.data))


class RuleState(SQLModel, table=True):
    """Per rule and subject: inside the condition or not, a `for:` window, how often it fired."""

    __tablename__ = "rule_state"

    rule: str = Field(primary_key=True)
    subject: str = Field(primary_key=True)
    in_condition: bool = False
    pending_since: datetime | None = _when(default=None)
    pending_event_id: int | None = None
    fire_count: int = 0
    last_fired_at: datetime | None = _when(default=None)


class Firing(SQLModel, table=True):
    """A rule fired for a subject because of an event; `reason` says why, for `history`."""

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(index=True)
    subject: str = Field(index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    at: datetime = _when()
    reason: str = ""


class Intent(SQLModel, table=True):
    """One action step to perform exactly once, named by its idempotency `key`."""

    __table_args__ = (Index("ix_intent_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    firing_id: int | None = Field(default=None, foreign_key="firing.id", index=True)
    rule: str
    action_type: str
    step: int = 0
    params: dict[str, Any] = _json(default_factory=dict)
    # The previous step's key: this intent runs only after that one is done.
    after_key: str | None = Field(default=None, index=True)
    status: str = PENDING
    attempts: int = 0
    next_attempt_at: datetime = _when(default_factory=utcnow)
    lease_owner: str | None = None
    lease_until: datetime | None = _when(default=None)
    last_error: str | None = None
    result: dict[str, Any] | None = _json(default=None)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


class Fact(SQLModel, table=True):
    """Something an action learned that later cycles need (a job's lineage, a task id)."""

    key: str = Field(primary_key=True)
    value: dict[str, Any] = _json(default_factory=dict)


class Workflow(SQLModel, table=True):
    """A staged workflow (`watcher stage submit`): its graph, its steps' progress, its state.

    `progress` holds one entry per step (under `steps` and `on_failure`): its status, and for
    jobs the submission number `n` and every job id it had, for transfers the attempt and every
    task id. A step is marked `submitting` (committed) before its qsub or transfer, so a crash
    leaves a trace that `watcher recover` follows (see `watcher.workflows.record`). `lease_*`
    serialize the runs that move it on.
    """

    id: str = Field(primary_key=True)
    name: str = ""
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    workdir: str = ""
    spec: dict[str, Any] = _json(default_factory=dict)
    step: str = "submitted"
    progress: dict[str, Any] = _json(default_factory=dict)
    lease_owner: str | None = None
    lease_until: datetime | None = _when(default=None)
    finished_at: datetime | None = _when(default=None)


class WorkflowLog(SQLModel, table=True):
    """One line of a workflow's step log, for `watcher history WF` and `watcher status`."""

    __tablename__ = "workflow_log"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", index=True)
    at: datetime = _when()
    step: str
    text: str


class Instance(SQLModel, table=True):
    """A running `watcher run`: who it is, when it last showed it is alive, what it polls.

    Written at start, renewed every heartbeat, deleted on a clean stop; a crashed instance's row
    stays, its heartbeat growing old, until another instance finds it gone and removes it.
    """

    owner: str = Field(primary_key=True)  # the lease owner name (`default_owner()`)
    host: str
    pid: int
    # Its process group: children (a `qsub`) may outlive a killed watcher; see ledger.takeover.
    pgid: int
    started_at: datetime = _when(default_factory=utcnow)
    heartbeat_at: datetime = _when(default_factory=utcnow)
    sources: list[str] = Field(default_factory=list, sa_type=JsonDict)


class SourceLease(SQLModel, table=True):
    """Which instance polls a source (PostgreSQL, several instances), and until when."""

    __tablename__ = "source_lease"

    source: str = Field(primary_key=True)
    owner: str
    until: datetime = _when()
    acquired_at: datetime = _when(default_factory=utcnow)
