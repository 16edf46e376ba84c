"""Facts: small named records actions leave for later cycles (a job's lineage, a task id).

They are read and written inside the caller's session, so a fact commits with whatever else
that transaction records.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from watcher.store.models import Fact


def get_fact(session: Session, key: str) -> dict[str, Any] | None:
    """A copy of the fact's value, or None when no fact has this key."""
    fact = session.get(Fact, key)
    return None if fact is None else dict(fact.value)


def put_fact(session: Session, key: str, value: dict[str, Any]) -> None:
    """Create or replace the fact named `key`."""
    fact = session.get(Fact, key)
    if fact is None:
        session.add(Fact(key=key, value=dict(value)))
    else:
        fact.value = dict(value)
