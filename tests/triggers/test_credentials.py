"""`credentials_expired`: fires on the edge into dead credentials; the recovery closes it."""

from __future__ import annotations

from datetime import UTC, datetime

from watcher.events import CHANGED, CREDENTIALS_EXPIRED, SOURCE_DOWN, Event
from watcher.rules.model import Rule
from watcher.sources.credentials import credentials_state
from watcher.triggers import TRIGGERS

TRIGGER = TRIGGERS["credentials_expired"]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = TRIGGER.Config()
DEAD, ALIVE = credentials_state(True, "invalid_grant"), credentials_state(False)


def event(previous: dict, current: dict, kind: str = CREDENTIALS_EXPIRED) -> Event:
    return Event(kind, "globus", T0, CHANGED, previous, current)


def test_fires_when_credentials_die_not_when_they_return() -> None:
    assert TRIGGER.matches_transition(CONFIG, event(ALIVE, DEAD))
    assert not TRIGGER.matches_transition(CONFIG, event(DEAD, ALIVE))
    assert not TRIGGER.matches_transition(CONFIG, event(ALIVE, DEAD, SOURCE_DOWN))


def test_written_as_a_bare_name() -> None:
    rule = Rule.model_validate({"name": "tell", "when": "credentials_expired",
                                "do": [{"qdel": {"job": "1"}}]})
    assert str(rule.when[0]) == "credentials_expired()"
