"""Several instances on one PostgreSQL store: each source is polled by one of them at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store import _postgres
from watcher.config import PbsSettings, Settings, StoreSettings
from watcher.service.leases import SourceLeases
from watcher.service.service import Service
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store, open_store
from watcher.store.models import SourceLease


@pytest.fixture
def pg_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(_postgres.new_database(_postgres.shared_admin_url(request.config)))
    yield opened
    opened.close()


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_one_instance_polls_and_a_clean_stop_hands_the_source_over_at_once(
        pg_store: Store, sim: PbsSim, tmp_path: Path) -> None:
    settings = Settings(pbs=PbsSettings(bin_dir=sim.bin_dir),
                        store=StoreSettings(url=str(pg_store.engine.url)))
    (tmp_path / "rules").mkdir()
    a, b = (Service(settings, pg_store, [tmp_path / "rules"], owner=name)
            for name in ("host:1:a", "host:2:b"))
    [pbs_a], [pbs_b] = a.sources, b.sources

    async def scenario() -> None:
        await a.start(poll_interval=30)
        await b.start(poll_interval=30)
        await a.poll(pbs_a)
        await b.poll(pbs_b)
        await a.heartbeat()
        await b.heartbeat()
        assert a.free_at(pbs_a) is None and a.leases and a.leases.held == {"pbs"}
        free_at = b.free_at(pbs_b)
        assert free_at is not None and 40 < (free_at - datetime.now(UTC)).total_seconds() <= 45
        await a.stop()
        await b.poll(pbs_b)
        assert b.free_at(pbs_b) is None and b.leases and b.leases.held == {"pbs"}
        await b.stop()

    asyncio.run(scenario())
    with pg_store.session(write=False) as session:
        lease = session.get(SourceLease, "pbs")
    assert lease is not None and lease.owner == "host:2:b"


def test_a_holder_that_stalled_past_its_lease_cannot_record_over_the_next(
        pg_store: Store) -> None:
    later = Clock()
    first = SourceLeases(pg_store, "host:1:a", timedelta(seconds=1.5), Clock())
    second = SourceLeases(pg_store, "host:2:b", timedelta(seconds=1.5), later)
    assert first.take("pbs").held
    assert not second.take("pbs").held  # the lease runs
    later.offset = timedelta(seconds=2)
    took = second.take("pbs")
    assert took.held and took.new
    with pg_store.session() as session:
        assert not first.fence(session, "pbs")  # its poll, however long, is not recorded
    assert first.held == set()
    with pg_store.session() as session:
        assert second.fence(session, "pbs")
