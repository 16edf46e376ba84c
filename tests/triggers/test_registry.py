"""Every registered trigger type honours the interface the loader, schema and engine use."""

from __future__ import annotations

import pytest

from watcher import events
from watcher.triggers import TRIGGERS
from watcher.triggers.base import TriggerType

KINDS = {value for name, value in vars(events).items() if name.isupper() and
         isinstance(value, str) and name not in ("APPEARED", "CHANGED", "VANISHED")}


@pytest.fixture(params=sorted(TRIGGERS))
def trigger(request: pytest.FixtureRequest) -> TriggerType:
    return TRIGGERS[request.param]


def test_registry_key_is_the_name(trigger: TriggerType) -> None:
    assert TRIGGERS[trigger.name] is trigger


def test_listens_to_known_event_kinds(trigger: TriggerType) -> None:
    assert trigger.event_kinds and trigger.event_kinds <= KINDS


def test_empty_config_is_valid_and_describable(trigger: TriggerType) -> None:
    config = trigger.Config.model_validate({})
    assert trigger.describe(config) == f"{trigger.name}()"
    assert trigger.holds(config, None) is False


def test_unknown_keys_rejected(trigger: TriggerType) -> None:
    with pytest.raises(ValueError, match="extra"):
        trigger.Config.model_validate({"no_such_key": 1})


def test_has_docs(trigger: TriggerType) -> None:
    assert type(trigger).__doc__ and trigger.summary
