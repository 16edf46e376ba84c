"""Facts are created, replaced and read inside one session."""

from __future__ import annotations

from watcher.store.db import Store
from watcher.store.facts import get_fact, put_fact


def test_facts_are_created_and_replaced(store: Store) -> None:
    with store.session() as session:
        assert get_fact(session, "lineage:12.sim") is None
        put_fact(session, "lineage:12.sim", {"attempts": 1})
    with store.session() as session:
        put_fact(session, "lineage:12.sim", {"attempts": 2, "next": "13.sim"})
    with store.session(write=False) as session:
        assert get_fact(session, "lineage:12.sim") == {"attempts": 2, "next": "13.sim"}
