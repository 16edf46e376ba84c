"""What the engine calls on loaded rules: trigger delegation and binding action params."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.actions import ACTIONS
from watcher.events import PBS_JOB, Event
from watcher.rules.loader import load_rule_text
from watcher.rules.model import Rule
from watcher.templating import TemplateError

RULE = load_rule_text("""\
rules:
  - name: r
    when: {pbs_job: {id: 12.srv, state: R}}
    do:
      - qhold: {job: "{{ vars.follower }}", hold: "{{ vars.hold }}"}
    vars: {follower: 13.srv, hold: u}
""", "m.yaml").rules[0]


def test_trigger_delegates_to_its_type() -> None:
    trigger = RULE.when[0]
    assert trigger.event_kinds == frozenset({PBS_JOB})
    assert trigger.subject_key() == "12.srv"
    event = Event(PBS_JOB, "12.srv", datetime(2026, 1, 1, tzinfo=UTC),
                  previous={"id": "12.srv", "state": "Q"}, current={"id": "12.srv", "state": "R"})
    assert trigger.matches_transition(event)
    assert trigger.selects(event.current) and trigger.holds(event.current)
    assert not trigger.holds(event.previous)


def test_bind_renders_and_validates() -> None:
    params = RULE.do[0].bind({"vars": RULE.vars}, "do[0].qhold")
    assert isinstance(params, ACTIONS["qhold"].params)
    assert (params.job, params.hold) == ("13.srv", "u")


def test_bind_reports_bad_rendered_values_by_field() -> None:
    with pytest.raises(TemplateError) as excinfo:
        RULE.do[0].bind({"vars": {"follower": "13.srv", "hold": "x"}}, "do[0].qhold")
    assert str(excinfo.value) == ("do[0].qhold.hold: after rendering: expected one of u, o, s "
                                  "but got 'x'")
    with pytest.raises(TemplateError, match=r"^qhold.job: undefined in template: 'vars' is"):
        RULE.do[0].bind({})


def test_source_is_set_and_not_serialized() -> None:
    assert str(RULE.source) == "m.yaml:2"
    assert "source" not in RULE.model_dump()
    assert RULE.model_dump(by_alias=True)["vars"] == {"follower": "13.srv", "hold": "u"}


def test_once_and_max_fires_exclusive() -> None:
    with pytest.raises(ValueError, match="at most one of 'once' and 'max_fires'"):
        Rule.model_validate({"name": "x", "when": "source_down", "once": True, "max_fires": 2,
                             "do": {"qdel": {"job": "1"}}})
