"""The store's record of whether the Globus credentials were last found dead, and why.

The service writes it when the credentials edge moves (`watcher.sources.credentials`);
`watcher status` reads it (`watcher.globus.report`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from watcher.store.facts import get_fact, put_fact

FACT = "globus:credentials"


def stored_state(session: Session) -> tuple[bool, str | None]:
    """Whether the service last found the credentials dead, and Globus's reason (for status)."""
    fact = get_fact(session, FACT) or {}
    return bool(fact.get("expired", False)), fact.get("reason")


def store_state(session: Session, *, expired: bool, reason: str | None, at: datetime,
                source: str) -> None:
    """Record a move of the edge, in the caller's transaction."""
    put_fact(session, FACT, {"expired": expired, "reason": reason, "at": at.isoformat(),
                             "source": source})
