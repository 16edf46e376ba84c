"""A lineage in the store: the whole chain as a fact under every member's id (`lineage:<id>`),
so any job of a lineage finds its root and its newest resubmission."""

from __future__ import annotations

from watcher.pbs.lineage import Lineage
from watcher.store.db import Store
from watcher.store.facts import get_fact, put_fact

_FACT_PREFIX = "lineage:"


def lineage_of(store: Store, job_id: str) -> Lineage | None:
    """The recorded lineage `job_id` belongs to (any member finds the whole chain)."""
    with store.session(write=False) as session:
        fact = get_fact(session, _FACT_PREFIX + job_id)
    if fact is None:
        return None
    return Lineage(str(fact["root"]), tuple(str(j) for j in fact["chain"]))


def record_lineage(store: Store, lineage: Lineage) -> None:
    """Store the chain under every member's id, in one transaction."""
    value = {"root": lineage.root, "chain": list(lineage.chain)}
    with store.session() as session:
        for job_id in lineage.chain:
            put_fact(session, _FACT_PREFIX + job_id, value)
