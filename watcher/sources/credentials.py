"""Dead Globus credentials as an edge: one `credentials_expired` event, told once.

A Globus source that meets a dead refresh token returns a failed observation marked
`detail["credentials"] = "expired"` and pauses. That is not an outage of Globus, so the service
hands such observations here instead of to the health and diff steps: the first one becomes a
`credentials_expired` event (subject "globus", `expired: true`), later ones nothing. The first
healthy poll that used the credentials again (`detail["credentials"] = "ok"`) closes the edge
with a `credentials_expired` event whose `expired` is false, so a `for:` window on it ends.
The state is kept as a fact in the store, so a restart does not tell the user again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from watcher.events import CHANGED, CREDENTIALS_EXPIRED, Event
from watcher.globus.credentials_fact import store_state, stored_state
from watcher.sources.base import Observation

SUBJECT = "globus"
DETAIL_KEY = "credentials"


def credentials_failure(source: str, at: datetime, reason: str) -> Observation:
    """The observation of a poll that could not run because the credentials are dead."""
    return Observation.failed(source, at, reason, {DETAIL_KEY: "expired"})


def credentials_state(expired: bool, reason: str | None = None) -> dict[str, Any]:
    """The attributes `credentials_expired` triggers read."""
    return {"source": SUBJECT, "expired": expired, "reason": reason}


def credentials_edge(expired: bool, obs: Observation) -> tuple[bool, list[Event], bool]:
    """Pure: (expired after `obs`, events, whether `obs` was consumed here)."""
    marker = obs.detail.get(DETAIL_KEY)
    if not obs.ok and marker == "expired":
        if expired:
            return True, [], True
        event = Event(CREDENTIALS_EXPIRED, SUBJECT, obs.at, CHANGED, credentials_state(False),
                      credentials_state(True, obs.error), {"source": obs.source})
        return True, [event], True
    if obs.ok and marker == "ok" and expired:
        event = Event(CREDENTIALS_EXPIRED, SUBJECT, obs.at, CHANGED, credentials_state(True),
                      credentials_state(False), {"source": obs.source, "restored": True})
        return False, [event], False
    return expired, [], False


class CredentialsEdge:
    """The service's copy of the edge, loaded once from the store and written on change."""

    def __init__(self, session: Session) -> None:
        self.expired = stored_state(session)[0]

    def apply(self, session: Session, obs: Observation) -> tuple[list[Event], bool]:
        """Events to commit for `obs`, and whether the normal steps must skip it."""
        expired, events, consumed = credentials_edge(self.expired, obs)
        if expired != self.expired:
            store_state(session, expired=expired, reason=obs.error, at=obs.at,
                        source=obs.source)
            self.expired = expired
        return events, consumed
