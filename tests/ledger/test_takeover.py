"""Leases kept and freed: renewal while an action runs, takeover from a worker that is gone."""

from __future__ import annotations

from datetime import timedelta

from tests.ledger._helpers import T0, add, intent, statuses
from watcher.ledger.outbox import NewIntent, claim
from watcher.ledger.takeover import foreign_owners, hand_back, renew, take_over
from watcher.store.db import Store

LEASE = timedelta(seconds=30)


def _claim(store: Store, owner: str, at=T0) -> list[str]:
    return [i.key for i in claim(store, owner=owner, now=at, lease=LEASE, limit=10)]


def test_a_renewed_lease_outlasts_its_first_length(store: Store) -> None:
    add(store, NewIntent("long", "r", "transfer"))
    assert _claim(store, "w1") == ["long"]
    for beat in range(1, 7):  # a minute of heartbeats, every 10 s
        assert renew(store, "w1", now=T0 + timedelta(seconds=10 * beat), lease=LEASE) == 1
    assert intent(store, "long").lease_until == T0 + timedelta(seconds=60) + LEASE
    assert _claim(store, "w2", at=T0 + timedelta(seconds=80)) == []  # still w1's
    assert _claim(store, "w2", at=T0 + timedelta(seconds=91)) == ["long"]  # w1 stopped beating


def test_renewal_touches_only_the_owners_running_leases(store: Store) -> None:
    add(store, NewIntent("a", "r", "qdel"), NewIntent("b", "r", "qdel"))
    claim(store, owner="w1", now=T0, lease=LEASE, limit=1)
    claim(store, owner="w2", now=T0, lease=LEASE, limit=1)
    assert renew(store, "w1", now=T0 + timedelta(seconds=10), lease=LEASE) == 1
    assert intent(store, "b").lease_until == T0 + LEASE
    assert renew(store, "nobody", now=T0, lease=LEASE) == 0


def test_the_claims_of_a_gone_worker_are_due_at_once(store: Store) -> None:
    add(store, *(NewIntent(f"k{n}", "r", "qdel") for n in range(3)))
    claim(store, owner="dead", now=T0, lease=LEASE, limit=2)
    claim(store, owner="alive", now=T0, lease=LEASE, limit=1)
    assert foreign_owners(store, "me") == {"dead", "alive"}
    now = T0 + timedelta(seconds=1)
    assert take_over(store, "me", now=now, gone=lambda owner: owner == "dead") == {"dead": 2}
    assert statuses(store) == {"k0": "pending", "k1": "pending", "k2": "running"}
    freed = intent(store, "k0")
    assert (freed.lease_owner, freed.next_attempt_at, freed.attempts) == (None, now, 1)
    assert _claim(store, "me", at=now) == ["k0", "k1"]  # long before the lease would end
    assert intent(store, "k0").attempts == 2


def test_a_clean_stop_hands_back_what_it_holds(store: Store) -> None:
    add(store, NewIntent("a", "r", "qdel"), NewIntent("b", "r", "qdel"))
    claim(store, owner="w1", now=T0, lease=LEASE, limit=1)
    claim(store, owner="w2", now=T0, lease=LEASE, limit=1)
    assert hand_back(store, "w1", now=T0) == 1
    assert statuses(store) == {"a": "pending", "b": "running"}
