"""Recording outcomes: done, retried with backoff, dead; only by the lease holder."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.ledger._helpers import LEASE, T0, add, intent
from watcher.actions.base import Outcome
from watcher.ledger.outbox import NewIntent, RetryPolicy, claim, dead_intents, record
from watcher.store.db import Store

POLICY = RetryPolicy(base=timedelta(seconds=2), cap=timedelta(seconds=10), max_attempts=5,
                     jitter=0)
FLAKY = Outcome.failed("qrls: cannot connect to server", retryable=True)


def _claim_one(store: Store, at: datetime, owner: str = "w1") -> int | None:
    claimed = claim(store, owner=owner, now=at, lease=LEASE, limit=1)
    return claimed[0].id if claimed else None


def test_done_keeps_the_detail_and_facts_and_frees_the_lease(store: Store) -> None:
    add(store, NewIntent("k", "r", "resubmit"))
    intent_id = _claim_one(store, T0)
    recorded = record(store, intent_id, Outcome.done("qsub -> 13.srv", job="13.srv"),
                      owner="w1", now=T0 + timedelta(seconds=1), policy=POLICY)
    assert recorded is not None and recorded.status == "done"
    row = intent(store, "k")
    assert row.result == {"ok": True, "detail": "qsub -> 13.srv", "facts": {"job": "13.srv"}}
    assert (row.lease_owner, row.lease_until, row.last_error) == (None, None, None)
    assert row.updated_at == T0 + timedelta(seconds=1)
    assert _claim_one(store, T0 + timedelta(days=1)) is None


def test_retryable_failures_back_off_then_die(store: Store) -> None:
    add(store, NewIntent("k", "r", "qrls"))
    now, waits = T0, []
    while (intent_id := _claim_one(store, now)) is not None:
        record(store, intent_id, FLAKY, owner="w1", now=now, policy=POLICY)
        row = intent(store, "k")
        if row.status == "pending":
            assert _claim_one(store, row.next_attempt_at - timedelta(microseconds=1)) is None
            waits.append((row.next_attempt_at - now).total_seconds())
            now = row.next_attempt_at
    assert waits == [2, 4, 8, 10]
    row = intent(store, "k")
    assert (row.status, row.attempts) == ("dead", 5)
    assert row.last_error == "gave up after 5 attempts: qrls: cannot connect to server"
    assert [d.key for d in dead_intents(store)] == ["k"]


def test_a_permanent_failure_is_dead_at_once(store: Store) -> None:
    add(store, NewIntent("k", "r", "qrls"))
    record(store, _claim_one(store, T0), Outcome.failed("Unknown Job Id", retryable=False),
           owner="w1", now=T0, policy=POLICY)
    row = intent(store, "k")
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "Unknown Job Id")


def test_a_worker_whose_lease_was_taken_cannot_record(store: Store) -> None:
    add(store, NewIntent("k", "r", "qdel"))
    intent_id = _claim_one(store, T0, owner="slow")
    later = T0 + LEASE + timedelta(seconds=1)
    assert _claim_one(store, later, owner="fast") == intent_id
    assert record(store, intent_id, Outcome.done(), owner="slow", now=later,
                  policy=POLICY) is None
    assert (intent(store, "k").status, intent(store, "k").lease_owner) == ("running", "fast")
    assert record(store, intent_id, FLAKY, owner="fast", now=later, policy=POLICY) is not None
    assert intent(store, "k").status == "pending"
    # Recording twice is refused too: the intent is no longer running.
    assert record(store, intent_id, Outcome.done(), owner="fast", now=later,
                  policy=POLICY) is None
