"""One watcher cycle, stage by stage, for timing: the same calls in the same order as
`Service.poll` → `Service.commit_observation`, with a clock around each stage.

    poll    run `qstat -f -F json -x` / ask `task_list` for the watched ids (the SDK decodes
            the JSON inside its request, so the Globus poll includes that decode)
    parse   qstat text → typed job snapshots → observation / task documents → attributes
    diff    credentials edge, source health, diff against the last snapshots (SourceState)
    match   record events and run them through the rules (Engine.process)
    record  flush and commit the transaction

`check_equivalent` proves on the live world that these stages build the observation the
sources' own `poll()` builds, so the split times the real thing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from _measure import StageClock

from watcher.engine.engine import Engine
from watcher.globus.clients import GlobusClients
from watcher.globus.task_fields import task_attributes
from watcher.globus.tasks import fetch_tasks
from watcher.kinds import kind_of
from watcher.pbs.commands import CommandResult
from watcher.sources.base import Observation
from watcher.sources.credentials import DETAIL_KEY, CredentialsEdge
from watcher.sources.globus import GlobusSource
from watcher.sources.pbs import QSTAT_ARGS, PbsSource, job_selector, observation_from_result
from watcher.state.source import SourceState
from watcher.store.db import Store


async def poll_pbs(source: PbsSource, clock: StageClock) -> tuple[Observation, CommandResult]:
    with clock.stage("poll"):
        at = datetime.now(UTC)
        extra = source.extra_ids() if source.extra_ids else ()
        result = await source.commands.run("qstat", *QSTAT_ARGS)
    with clock.stage("parse"):
        select = job_selector(source.watch, source.user, extra)
        obs = observation_from_result(result, source=source.name, at=at, select=select)
    return obs, result


def poll_globus(source: GlobusSource, clients: GlobusClients, clock: StageClock
                ) -> Observation:
    with clock.stage("poll"):
        at = datetime.now(UTC)
        ids = sorted(set(source.watched_ids()))
        docs, requests = fetch_tasks(clients.ready_transfer(), ids, source.chunk)
    with clock.stage("parse"):
        wanted = set(ids)
        subjects = {doc["task_id"]: task_attributes(doc) for doc in docs
                    if doc.get("task_id") in wanted}
        return Observation(source.name, True, at, subjects=subjects,
                           detail={"watched": len(ids), "requests": requests,
                                   DETAIL_KEY: "ok"})


class Committer:
    """The commit half of a cycle for one source, with its own source state and credentials
    edge (as a restarted service would have: loaded from the store once)."""

    def __init__(self, store: Store, source: str, kind: str, engine: Engine,
                 down_after: int) -> None:
        self.store, self.engine, self.down_after = store, engine, down_after
        with store.session() as session:
            self.state = SourceState(source, kind, session)
            # As watcher.service.commit: only a Globus observation meets the credentials edge.
            self.credentials = CredentialsEdge(session) if kind_of(kind).credentials else None

    def commit(self, obs: Observation, clock: StageClock) -> int:
        """Diff, match and record `obs`; returns the number of events."""
        now = datetime.now(UTC)
        scope = self.store.session()
        session = scope.__enter__()
        try:
            with clock.stage("diff"):
                told, consumed = ([], False) if self.credentials is None else \
                    self.credentials.apply(session, obs)
                events = [] if consumed else self.state.apply(
                    session, obs, down_after=self.down_after, now=now)
            with clock.stage("match"):
                self.engine.process(session, [*told, *events], now)
        except BaseException as exc:
            scope.__exit__(type(exc), exc, exc.__traceback__)
            raise
        with clock.stage("record"):
            scope.__exit__(None, None, None)
        return len(told) + len(events)


def check_equivalent(mine: Observation, theirs: Observation) -> dict[str, Any]:
    """Whether the staged poll saw what the source's own poll saw (on an idle world)."""
    same = mine.ok == theirs.ok and mine.subjects == theirs.subjects
    return {"same_observation": same, "subjects": len(mine.subjects)}
