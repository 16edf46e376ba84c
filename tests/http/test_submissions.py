"""Submission keys on both stores: of two instances reserving one key, one wins; a bound key
names its workflow; a refused submission frees its key; an abandoned reservation is taken over."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store import _postgres
from watcher.http import submissions
from watcher.store.db import Store, open_store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two instances' connections to one store."""
    url = (f"sqlite:///{tmp_path / 'watcher.db'}" if request.param == "sqlite"
           else _postgres.new_database(_postgres.shared_admin_url(request.config)))
    first, second = open_store(url), open_store(url)
    yield first, second
    first.close()
    second.close()


def reserve(store: Store, key: str, digest: str, now: datetime = NOW
            ) -> submissions.Seen | None:
    with store.session() as session:
        return submissions.reserve(session, key, digest, now)


def test_of_two_instances_reserving_one_key_at_once_one_wins(
        stores: tuple[Store, Store]) -> None:
    results: list[submissions.Seen | None] = []
    barrier = threading.Barrier(2)

    def race(store: Store) -> None:
        barrier.wait()
        results.append(reserve(store, "k-1", "d"))

    threads = [threading.Thread(target=race, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False, True]
    [seen] = [r for r in results if r is not None]
    assert (seen.digest, seen.workflow) == ("d", None)


def test_a_bound_key_names_its_workflow_and_a_refused_one_is_free_again(
        stores: tuple[Store, Store]) -> None:
    first, second = stores
    assert reserve(first, "bound", "d1") is None
    with first.session() as session:
        submissions.bind(session, "bound", "wf-abcdef")
    seen = reserve(second, "bound", "d1", NOW + timedelta(days=1))
    assert seen is not None and seen.workflow == "wf-abcdef"  # never abandoned once bound
    assert reserve(first, "refused", "d2") is None
    with first.session() as session:
        submissions.release(session, "refused")
    assert reserve(second, "refused", "d3") is None


def test_an_abandoned_reservation_is_taken_over(stores: tuple[Store, Store]) -> None:
    first, second = stores
    assert reserve(first, "stale", "d1") is None
    assert reserve(second, "stale", "d1", NOW + timedelta(minutes=1)) is not None
    assert reserve(second, "stale", "d2", NOW + submissions.ABANDONED) is None
    with second.session(write=False) as session:
        seen = submissions.look_up(session, "stale")
    assert seen is not None and seen.digest == "d2"
