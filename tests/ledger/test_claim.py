"""Claiming: due intents only, one worker each, leases that run out, steps in order."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.ledger._helpers import LEASE, T0, add, chain, intent, statuses
from watcher.actions.base import Outcome
from watcher.ledger.outbox import NewIntent, RetryPolicy, claim, record
from watcher.store.db import Store, open_store


def _claim(store: Store, owner: str = "w1", at=T0, limit: int = 10) -> list[str]:
    return [i.key for i in claim(store, owner=owner, now=at, lease=LEASE, limit=limit)]


def _done(store: Store, key: str, owner: str = "w1", at=T0) -> None:
    assert record(store, intent(store, key).id, Outcome.done(), owner=owner, now=at,
                  policy=RetryPolicy())


def test_claims_due_intents_under_a_lease(store: Store) -> None:
    add(store, NewIntent("now", "r", "qdel"),
        NewIntent("later", "r", "qdel", not_before=T0 + timedelta(minutes=1)))
    assert _claim(store) == ["now"]
    claimed = intent(store, "now")
    assert (claimed.status, claimed.lease_owner, claimed.attempts) == ("running", "w1", 1)
    assert claimed.lease_until == T0 + LEASE
    assert _claim(store, "w2") == []  # leased, and the other one is not due yet
    assert _claim(store, "w2", at=T0 + timedelta(minutes=1)) == ["later"]


def test_an_expired_lease_is_claimed_again(store: Store) -> None:
    add(store, NewIntent("k", "r", "qdel"))
    assert _claim(store, "dead-worker") == ["k"]
    assert _claim(store, "w2", at=T0 + LEASE) == []
    assert _claim(store, "w2", at=T0 + LEASE + timedelta(seconds=1)) == ["k"]
    assert (intent(store, "k").lease_owner, intent(store, "k").attempts) == ("w2", 2)


def test_limit_and_order_by_due_time(store: Store) -> None:
    add(store, *(NewIntent(f"k{n}", "r", "qdel", not_before=T0 - timedelta(seconds=n))
                 for n in range(5)))
    assert _claim(store, limit=2) == ["k4", "k3"]
    assert _claim(store, limit=10) == ["k2", "k1", "k0"]


def test_a_step_waits_for_the_step_before_it(store: Store) -> None:
    add(store, *chain("f1", "qrls", "qdel", "qhold"))
    assert _claim(store) == ["f1/0"]
    assert _claim(store) == []
    _done(store, "f1/0")
    assert _claim(store) == ["f1/1"]
    _done(store, "f1/1")
    assert _claim(store) == ["f1/2"]


def test_steps_after_a_dead_step_are_skipped_with_the_reason(store: Store) -> None:
    add(store, *chain("f1", "qrls", "qdel", "qhold"))
    [first] = claim(store, owner="w1", now=T0, lease=LEASE, limit=10)
    record(store, first.id, Outcome.failed("unknown job", retryable=False), owner="w1", now=T0,
           policy=RetryPolicy())
    assert _claim(store) == []
    assert statuses(store) == {"f1/0": "dead", "f1/1": "skipped", "f1/2": "skipped"}
    assert intent(store, "f1/1").last_error == "skipped: previous step 'f1/0' is dead"
    assert intent(store, "f1/2").last_error == "skipped: previous step 'f1/1' is skipped"


def test_a_step_whose_predecessor_was_never_enqueued_is_skipped(store: Store) -> None:
    add(store, NewIntent("orphan", "r", "qdel", step=1, after_key="missing"))
    assert _claim(store) == []
    assert intent(store, "orphan").last_error == "skipped: previous step 'missing' is not found"


def test_concurrent_workers_never_get_the_same_intent(store: Store, store_url: str) -> None:
    add(store, *(NewIntent(f"k{n:03}", "r", "qdel") for n in range(120)))
    stores = [open_store(store_url) for _ in range(3)]
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def work(name: str, own: Store) -> None:
        start.wait()
        mine = got.setdefault(name, [])
        try:
            while batch := _claim(own, name, limit=4):
                mine.extend(batch)
        except BaseException as exc:  # e.g. "database is locked": a worker must not fail
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}", s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for own in stores:
        own.close()
    assert errors == []
    every = [key for keys in got.values() for key in keys]
    assert sorted(every) == [f"k{n:03}" for n in range(120)]  # each once, none lost
    assert all(intent(store, k).attempts == 1 for k in ("k000", "k119"))
