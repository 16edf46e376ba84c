"""The credentials edge: told once on expiry, closed by the first good Globus poll, kept in the
store across restarts; nothing else is touched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.events import CREDENTIALS_EXPIRED
from watcher.sources.base import Observation
from watcher.sources.credentials import CredentialsEdge, credentials_edge, credentials_failure
from watcher.store.db import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEAD = credentials_failure("globus", T0, "Globus refused the stored refresh token")
GOOD = Observation("globus", True, T0, detail={"credentials": "ok"})
IDLE = Observation("globus", True, T0, detail={"requests": 0})  # used no credentials
OUTAGE = Observation.failed("globus", T0, "HTTP 503")
PBS = Observation("pbs", True, T0)


def test_expiry_is_told_once_and_consumed() -> None:
    expired, [event], consumed = credentials_edge(False, DEAD)
    assert expired and consumed
    assert (event.kind, event.subject, event.current["expired"]) == (
        CREDENTIALS_EXPIRED, "globus", True)
    assert event.current["reason"] == DEAD.error
    assert credentials_edge(True, DEAD) == (True, [], True)


def test_the_first_good_poll_closes_the_edge_and_is_processed_as_usual() -> None:
    expired, [event], consumed = credentials_edge(True, GOOD)
    assert not expired and not consumed and event.current["expired"] is False
    assert credentials_edge(True, IDLE) == (True, [], False)  # proves nothing yet
    assert credentials_edge(True, OUTAGE) == (True, [], False)  # an outage: health's business


@pytest.mark.parametrize("obs", [GOOD, IDLE, OUTAGE, PBS])
def test_other_observations_pass_through(obs: Observation) -> None:
    assert credentials_edge(False, obs) == (False, [], False)


def test_the_edge_is_kept_in_the_store(store: Store) -> None:
    with store.session() as s:
        told, consumed = CredentialsEdge(s).apply(s, DEAD)
    assert len(told) == 1 and consumed
    with store.session() as s:  # a restarted service
        memory = CredentialsEdge(s)
        assert memory.expired and memory.apply(s, DEAD) == ([], True)
        assert len(memory.apply(s, GOOD)[0]) == 1
    with store.session() as s:
        assert not CredentialsEdge(s).expired
