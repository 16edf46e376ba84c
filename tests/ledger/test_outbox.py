"""Enqueueing: inside the caller's transaction, and a key already there is skipped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from tests.ledger._helpers import T0, add, intent
from watcher.ledger.outbox import NewIntent, enqueue
from watcher.store.db import Store
from watcher.store.models import Intent


def _count(store: Store) -> int:
    with store.session(write=False) as session:
        return session.exec(select(func.count()).select_from(Intent)).one()


def test_the_same_key_twice_makes_one_intent(store: Store) -> None:
    first = NewIntent("r:1.srv:ev1/0", "r", "qrls", {"job": "1.srv"})
    with store.session() as session:
        assert [i.key for i in enqueue(session, [first], now=T0)] == [first.key]
    again = NewIntent(first.key, "r", "qdel", {"job": "other"})
    with store.session() as session:
        assert enqueue(session, [again, again], now=T0) == []
    assert _count(store) == 1
    assert intent(store, first.key).action_type == "qrls"


def test_new_intents_are_pending_and_due(store: Store) -> None:
    with store.session() as session:
        [new] = enqueue(session, [NewIntent("k", "r", "qdel", {"job": "1.srv"}, step=2)], now=T0)
    assert (new.status, new.attempts, new.step) == ("pending", 0, 2)
    assert new.next_attempt_at == new.created_at == T0
    assert new.params == {"job": "1.srv"}


def test_not_before_delays_the_first_attempt(store: Store) -> None:
    later = T0 + timedelta(minutes=3)
    add(store, NewIntent("k", "r", "qdel", not_before=later))
    assert intent(store, "k").next_attempt_at == later


def test_intents_roll_back_with_the_callers_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        enqueue(session, [NewIntent("k", "r", "qdel")], now=T0)
        raise RuntimeError("the event could not be recorded")
    assert _count(store) == 0
