"""`globus_task`: which tasks it selects, and that it fires on entering a status, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from watcher.events import APPEARED, CHANGED, GLOBUS_TASK, PBS_JOB, Event
from watcher.globus.task_fields import task_attributes
from watcher.rules.model import Rule
from watcher.triggers import TRIGGERS
from watcher.triggers.globus_task import GlobusTaskConfig

TRIGGER = TRIGGERS["globus_task"]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TASK = "1f0c6a9e-0000-4000-8000-000000000001"


def config(**raw: Any) -> GlobusTaskConfig:
    return GlobusTaskConfig.model_validate(raw)


def task(status: str = "ACTIVE", nice_status: str | None = "OK", **more: Any) -> dict[str, Any]:
    return task_attributes({"task_id": TASK, "status": status, "nice_status": nice_status,
                            "label": "stage-in-42", "is_paused": False, **more})


ACTIVE, QUEUED = task(), task(nice_status="Queued")
INACTIVE = task("INACTIVE", "AUTH")
SUCCEEDED, FAILED = task("SUCCEEDED", None), task("FAILED", None,
                                                  fatal_error={"code": "CANCELED"})


def fires(cfg: GlobusTaskConfig, states: list[dict[str, Any]]) -> list[bool]:
    """Feed a task's successive observations; say after each whether the trigger fired."""
    result, previous = [], None
    for i, current in enumerate(states):
        change = APPEARED if previous is None else CHANGED
        event = Event(GLOBUS_TASK, TASK, T0 + timedelta(minutes=i), change, previous, current)
        result.append(TRIGGER.matches_transition(cfg, event))
        previous = current
    return result


def test_inactive_is_not_failed_and_a_resumed_task_succeeds_once() -> None:
    states = [QUEUED, ACTIVE, INACTIVE, ACTIVE, INACTIVE, ACTIVE, SUCCEEDED]
    assert not any(fires(config(status="FAILED"), states))
    assert fires(config(status="SUCCEEDED"), states) == [False] * 6 + [True]
    assert fires(config(status="INACTIVE"), states).count(True) == 2  # each entry tells


def test_a_task_first_seen_finished_fires() -> None:
    assert fires(config(status="SUCCEEDED"), [SUCCEEDED]) == [True]


def test_status_lists_nice_status_and_pauses() -> None:
    assert fires(config(status=["FAILED", "INACTIVE"]), [ACTIVE, INACTIVE, FAILED]) == [
        False, True, False]  # already inside the list: FAILED after INACTIVE is no new entry
    assert fires(config(nice_status="AUTH"), [ACTIVE, INACTIVE]) == [False, True]
    paused = task(is_paused=True)
    assert fires(config(is_paused=True), [ACTIVE, paused, ACTIVE, paused]) == [
        False, True, False, True]


def test_from_requires_the_status_before() -> None:
    resumed = config(status="ACTIVE", **{"from": {"status": "INACTIVE"}})
    assert fires(resumed, [QUEUED, ACTIVE, INACTIVE, ACTIVE]) == [False, False, False, True]
    assert fires(resumed, [ACTIVE]) == [False]


def test_selectors_task_id_and_label() -> None:
    assert fires(config(task=TASK, status="SUCCEEDED"), [ACTIVE, SUCCEEDED])[-1]
    assert not fires(config(task="other", status="SUCCEEDED"), [ACTIVE, SUCCEEDED])[-1]
    assert fires(config(label="stage-in-*", status="SUCCEEDED"), [ACTIVE, SUCCEEDED])[-1]
    assert not fires(config(label="stage-out-*", status="SUCCEEDED"), [ACTIVE, SUCCEEDED])[-1]


def test_a_pinned_task_is_its_index_key() -> None:
    assert TRIGGER.subject_key(config(task=TASK)) == TASK
    assert TRIGGER.subject_key(config(label="x")) is None


def test_other_event_kinds_never_fire() -> None:
    event = Event(PBS_JOB, TASK, T0, APPEARED, None, SUCCEEDED)
    assert not TRIGGER.matches_transition(config(status="SUCCEEDED"), event)


@pytest.mark.parametrize("raw, message", [
    ({"status": "DONE"}, "expected one of ACTIVE, INACTIVE, SUCCEEDED, FAILED but got 'DONE'"),
    ({"status": ["SUCCEEDED", "OK"]}, "but got 'OK'"),
    ({"from": {"status": "FINISHED"}}, "but got 'FINISHED'"),
    ({"task_id": TASK}, "Extra inputs are not permitted"),
    ({"is_paused": "sometimes"}, "valid boolean"),
])
def test_bad_configs_are_rejected(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**raw)


def test_describe_and_rule_file_form() -> None:
    rule = Rule.model_validate({
        "name": "release", "do": [{"qrls": {"job": "1.srv"}}],
        "when": {"globus_task": {"task": TASK, "status": "SUCCEEDED"}}})
    assert str(rule.when[0]) == f"globus_task(task={TASK}, status=SUCCEEDED)"


def test_task_takes_a_list_or_a_glob_and_only_a_plain_id_pins_the_index() -> None:
    other = "1f0c6a9e-0000-4000-8000-000000000002"
    listed = config(task=[other, TASK], status="FAILED")
    globbed = config(task="1f0c6a9e-*", status="FAILED")
    for cfg in (listed, globbed):
        assert fires(cfg, [ACTIVE, FAILED]) == [False, True]
    assert fires(config(task=[other], status="FAILED"), [ACTIVE, FAILED]) == [False, False]
    assert TRIGGER.subject_key(config(task=TASK)) == TASK
    assert TRIGGER.subject_key(listed) is None and TRIGGER.subject_key(globbed) is None


def test_label_takes_a_list_and_a_glob() -> None:
    assert fires(config(label=["other", "stage-in-*"], status="FAILED"),
                 [ACTIVE, FAILED]) == [False, True]
    assert fires(config(label=["other", "stage-out-*"], status="FAILED"),
                 [ACTIVE, FAILED]) == [False, False]
