"""`globus_endpoint`: an endpoint enters "inactive" / "consent required", or leaves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.events import APPEARED, CHANGED, GLOBUS_ENDPOINT, Event
from watcher.triggers import TRIGGERS
from watcher.triggers.globus_endpoint import GlobusEndpointConfig

TRIGGER = TRIGGERS["globus_endpoint"]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EP = "0b1e3c35-0000-4000-8000-0000000000ee"


def config(**raw: Any) -> GlobusEndpointConfig:
    return GlobusEndpointConfig.model_validate(raw)


def endpoint(inactive: bool | None = False, consent: bool = False, ep: str = EP
             ) -> dict[str, Any]:
    return {"id": ep, "display_name": "scratch", "inactive": inactive,
            "consent_required": consent, "required_scopes": []}


FINE, INACTIVE, CONSENT = endpoint(), endpoint(True), endpoint(None, True)


def fires(cfg: GlobusEndpointConfig, states: list[dict[str, Any]]) -> list[bool]:
    result, previous = [], None
    for i, current in enumerate(states):
        change = APPEARED if previous is None else CHANGED
        event = Event(GLOBUS_ENDPOINT, current["id"], T0 + timedelta(minutes=i), change,
                      previous, current)
        result.append(TRIGGER.matches_transition(cfg, event))
        previous = current
    return result


def test_no_flag_means_any_trouble() -> None:
    assert fires(config(), [FINE, INACTIVE, FINE, CONSENT]) == [False, True, False, True]
    assert fires(config(), [INACTIVE]) == [True]  # inactive at the first probe: tell


def test_flags_pick_one_trouble() -> None:
    assert fires(config(inactive=True), [FINE, CONSENT, INACTIVE]) == [False, False, True]
    assert fires(config(consent_required=True), [FINE, INACTIVE, CONSENT]) == [
        False, False, True]


def test_recovery_fires_when_the_trouble_goes_but_not_on_a_first_probe() -> None:
    back = config(inactive=False)
    assert fires(back, [FINE]) == [False]
    assert fires(back, [FINE, INACTIVE, FINE]) == [False, False, True]


def test_endpoint_selector_and_index_key() -> None:
    other = endpoint(True, ep="another")
    assert fires(config(endpoint=EP), [other]) == [False]
    assert fires(config(endpoint=EP), [INACTIVE]) == [True]
    assert TRIGGER.subject_key(config(endpoint=EP)) == EP
