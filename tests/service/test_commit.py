"""The commit path of one observation (state, track, engine, record): only a Globus observation
meets the credentials edge; any other failed poll is the source's health business."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select

from watcher.engine.engine import Engine
from watcher.events import CREDENTIALS_EXPIRED, PBS_JOB, SOURCE_DOWN
from watcher.globus.credentials_fact import stored_state
from watcher.pbs.commands import PbsCommands
from watcher.rules.loader import load_rule_text
from watcher.service.commit import ObservationCommit
from watcher.sources.base import Observation, Source
from watcher.sources.credentials import credentials_failure
from watcher.sources.globus import GlobusSource
from watcher.sources.pbs import PbsSource
from watcher.store.db import Store
from watcher.store.models import EventRecord, SourceHealth

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULES = """
rules:
  - name: pbs-down
    when: {source_down: pbs}
    do: [{email: {to: me@example.org, subject: s, body: b}}]
"""


def _commit(store: Store, path: ObservationCommit, source: Source, obs: Observation
            ) -> list[str]:
    engine = Engine(load_rule_text(RULES, "r.yaml").rules)
    with store.session() as session:
        reports = path.commit(session, source, obs, engine, T0)
    return [report.rule for report in reports]


def _kinds(store: Store) -> list[str]:
    with store.session(write=False) as session:
        return list(session.exec(select(EventRecord.kind).order_by(col(EventRecord.id))))


def test_a_pbs_failure_marked_like_dead_credentials_is_still_an_outage(store: Store) -> None:
    source = PbsSource(PbsCommands())
    source.down_after = 1
    obs = credentials_failure("pbs", T0, "not a Globus poll")
    path = ObservationCommit()
    assert _commit(store, path, source, obs) == ["pbs-down"]
    assert _kinds(store) == [SOURCE_DOWN]
    with store.session(write=False) as session:
        assert session.get(SourceHealth, "pbs").failures == 1
        assert stored_state(session) == (False, None)


def test_dead_credentials_on_a_globus_poll_are_an_edge_not_an_outage(store: Store) -> None:
    source = GlobusSource(lambda: None, set)  # type: ignore[arg-type,return-value]
    source.down_after = 1
    path = ObservationCommit()
    for _ in range(2):  # told once
        _commit(store, path, source, credentials_failure("globus", T0, "refused"))
    assert _kinds(store) == [CREDENTIALS_EXPIRED]
    with store.session(write=False) as session:
        assert session.get(SourceHealth, "globus") is None
        assert stored_state(session) == (True, "refused")


def test_a_healthy_poll_goes_through_every_step(store: Store) -> None:
    source = PbsSource(PbsCommands())
    job = {"state": "Q", "substate": 10, "name": "a", "owner": "me", "queue": "workq"}
    path = ObservationCommit()
    _commit(store, path, source, Observation("pbs", True, T0, subjects={"1.srv": job}))
    assert _kinds(store) == [PBS_JOB]
    path.forget("pbs")  # read again from the store: nothing new to tell
    _commit(store, path, source, Observation("pbs", True, T0, subjects={"1.srv": job}))
    assert _kinds(store) == [PBS_JOB]
