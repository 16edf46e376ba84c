"""Conditions: subject attributes, time windows, templates, and nested runtime errors."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from watcher.events import PBS_JOB
from watcher.rules.conditions import (
    CONDITIONS,
    ConditionContext,
    ConditionError,
    check_conditions,
)
from watcher.rules.model import Condition

WED_NOON = datetime(2026, 3, 4, 12, 0)  # a Wednesday, naive = local time
JOB = {"id": "12.srv", "state": "R", "run_count": 2, "exit_status": None,
       "variables": {"STAGE": "final"}}


def ctx(attrs: dict[str, Any] | None = JOB, now: datetime = WED_NOON,
        **tpl: Any) -> ConditionContext:
    return ConditionContext(now=now, subject="12.srv", attrs=attrs, kind=PBS_JOB,
                            template_context={"job": attrs, **tpl})


def cond(type_: str, config: Any) -> Condition:
    impl = CONDITIONS[type_]
    if impl.shorthand and not isinstance(config, dict):
        config = {impl.shorthand: config}
    return Condition(type=type_, config=impl.Config.model_validate(config))


@pytest.mark.parametrize(("config", "holds"), [
    ({"state": "R"}, True), ({"state": ["Q", "H"]}, False), ({"run_count": "< 3"}, True),
    ({"run_count": ">= 3"}, False), ({"variables.STAGE": "fin*"}, True),
    ({"exit_status": None}, True), ({"state": "R", "run_count": 5}, False),
])
def test_subject(config: dict[str, Any], holds: bool) -> None:
    assert cond("subject", config).check(ctx()) is holds


@pytest.mark.parametrize(("config", "now", "holds"), [
    ({"after": "08:00", "before": "18:00"}, WED_NOON, True),
    ({"after": "08:00", "before": "18:00"}, WED_NOON.replace(hour=18), False),
    ({"after": "08:00", "before": "18:00"}, WED_NOON.replace(hour=8), True),
    ({"after": "22:00", "before": "06:00"}, WED_NOON.replace(hour=23), True),
    ({"after": "22:00", "before": "06:00"}, WED_NOON.replace(hour=5), True),
    ({"after": "22:00", "before": "06:00"}, WED_NOON, False),
    ({"after": "12:00:01"}, WED_NOON, False),
    ({"before": "12:30"}, WED_NOON, True),
    ({"weekdays": ["mon", "wed"]}, WED_NOON, True),
    ({"weekdays": "Sat"}, WED_NOON, False),
])
def test_time(config: dict[str, Any], now: datetime, holds: bool) -> None:
    assert cond("time", config).check(ctx(now=now)) is holds


def test_time_parses_clock_values() -> None:
    config = CONDITIONS["time"].Config.model_validate({"after": "8:05", "before": "17:30:15"})
    assert (config.after, config.before) == (time(8, 5), time(17, 30, 15))
    assert str(cond("time", {"after": "8:05", "weekdays": ["mon"]})) == \
        "time(after=08:05, weekdays=[mon])"


@pytest.mark.parametrize(("config", "message"), [
    ({}, "expected at least one of 'after', 'before', 'weekdays'"),
    ({"after": "25:00"}, "expected a time like '08:00' or '17:30:00' but got '25:00'"),
    ({"after": 1080}, "expected a time like '08:00' or '17:30:00' but got an integer"),
    ({"weekdays": ["mon", "thurs"]},
     "expected one of mon, tue, wed, thu, fri, sat, sun but got 'thurs' (did you mean 'thu'?)"),
])
def test_time_rejects(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        CONDITIONS["time"].Config.model_validate(config)
    assert str(excinfo.value.errors()[0]["ctx"]["error"]) == message


@pytest.mark.parametrize(("template", "holds"), [
    ("{{ job.run_count < 3 }}", True), ("job.run_count > 3", False), ("{{ 1 }}", True),
    ("{{ 0 }}", False), ("{{ 'yes' }}", True), ("{{ 'nope' }}", False), ("{{ '' }}", False),
    ("{{ vars.limit > job.run_count }}", True),
])
def test_template(template: str, holds: bool) -> None:
    assert cond("template", template).check(ctx(vars={"limit": 5})) is holds


def test_all_must_hold() -> None:
    conditions = [cond("subject", {"state": "R"}), cond("time", {"weekdays": ["wed"]})]
    assert check_conditions(conditions, ctx()) is True
    assert check_conditions([*conditions, cond("subject", {"state": "Q"})], ctx()) is False
    assert check_conditions([], ctx()) is True


def test_errors_are_nested_and_all_reported() -> None:
    conditions = [cond("time", {"weekdays": ["wed"]}), cond("subject", {"exit_statu": 0}),
                  cond("template", "{{ job.nmae == 'x' }}")]
    with pytest.raises(ConditionError) as excinfo:
        check_conditions(conditions, ctx())
    assert str(excinfo.value) == (
        "In 'conditions' (item 2 of 3): In 'subject' condition: job 12.srv has no field "
        "'exit_statu'\n"
        "In 'conditions' (item 3 of 3): In 'template' condition: undefined in template: "
        "'dict object' has no attribute 'nmae'")


def test_subject_without_current_attributes() -> None:
    with pytest.raises(ConditionError, match=r"item 1 of 1\): In 'subject' condition: job "
                                             r"12.srv has no current attributes"):
        check_conditions([cond("subject", {"state": "R"})], ctx(attrs=None))


def test_false_before_an_error_stops_evaluation() -> None:
    conditions = [cond("subject", {"state": "Q"}), cond("subject", {"nope": 1})]
    assert check_conditions(conditions, ctx()) is False
