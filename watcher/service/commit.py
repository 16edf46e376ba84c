"""The commit path of one observation: four named steps in the caller's transaction.

    state   what changed. A Globus observation first meets the credentials edge (dead
            credentials are not an outage: such a poll gets no health and no diff); then the
            source's `SourceState` diffs it against the last snapshots and the source's health.
    track   the events move the workflows they are about, before any rule sees them, since
            the staging rules read the workflow's new state.
    engine  the rules decide, per event and rule, whether it fires: edges, `for:` windows,
            limits, silences, grouping (`Engine.process`) ...
    record  ... which writes the events, the firings and their intents (idempotency keys) in
            one batch, next to the snapshots and health rows of the state step.

The service commits the transaction (under its `db_lock`): a crash keeps all of it or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from watcher.engine.engine import Engine, FiringReport
from watcher.events import Event
from watcher.kinds import kind_of
from watcher.sources.base import Observation, Source
from watcher.sources.credentials import CredentialsEdge
from watcher.state.source import SourceState
from watcher.workflows.tracker import track


class ObservationCommit:
    """The commit path, and what it keeps between observations: each source's `SourceState`
    and the credentials edge, each read from the store on first use."""

    def __init__(self) -> None:
        self._states: dict[str, SourceState] = {}
        self._credentials: CredentialsEdge | None = None

    def commit(self, session: Session, source: Source, obs: Observation, engine: Engine,
               now: datetime, *, shared: bool = False) -> list[FiringReport]:
        """Everything `obs` causes, written into `session` (not committed here). `shared`:
        other instances poll sources of this store too (PostgreSQL)."""
        events = self.state(session, source, obs, now, shared=shared)
        track(session, events, now)
        return engine.process(session, events, now)

    def state(self, session: Session, source: Source, obs: Observation, now: datetime, *,
              shared: bool = False) -> list[Event]:
        """The state step: the events of `obs`, its snapshots and health written."""
        told: list[Event] = []
        if kind_of(source.kind).credentials:
            told, consumed = self._credentials_edge(session, shared).apply(session, obs)
            if consumed:  # dead credentials are not an outage: no health, no diff
                return told
        state = self._states.get(source.name)
        if state is None:
            state = self._states[source.name] = SourceState(source.name, source.kind, session)
        return [*told, *state.apply(session, obs, down_after=source.down_after, now=now)]

    def subjects(self, source: str) -> Mapping[str, Mapping[str, Any]]:
        """The subjects last seen of `source`, as kept between observations (none yet: {})."""
        state = self._states.get(source)
        return {} if state is None else state.subjects()

    def forget(self, source: str) -> None:
        """Another instance polled `source` meanwhile: what is kept of it is old."""
        self._states.pop(source, None)
        self._credentials = None

    def _credentials_edge(self, session: Session, shared: bool) -> CredentialsEdge:
        if self._credentials is None or shared:
            # Shared: another instance may poll the other Globus source and move the edge.
            self._credentials = CredentialsEdge(session)
        return self._credentials
