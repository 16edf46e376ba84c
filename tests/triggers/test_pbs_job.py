"""`pbs_job`: which jobs it selects, and that it fires on entering a condition, not on being in
it."""

from __future__ import annotations

import getpass
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from watcher.events import APPEARED, CHANGED, PBS_JOB, SOURCE_DOWN, VANISHED, Event
from watcher.pbs.snapshot import JobSnapshot
from watcher.triggers import TRIGGERS
from watcher.triggers.pbs_job import PbsJobConfig

TRIGGER = TRIGGERS["pbs_job"]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
JOB = JobSnapshot(id="12.srv", name="sim-1", owner=getpass.getuser(), queue="workq",
                  state="Q", substate=10, variables={"STAGE": "final", "N": "005"})


def config(**raw: Any) -> PbsJobConfig:
    return PbsJobConfig.model_validate(raw)


def attrs(**changes: Any) -> dict[str, Any]:
    return replace(JOB, **changes).attributes()


def fires(cfg: PbsJobConfig, states: list[dict[str, Any] | None]) -> list[bool]:
    """Feed a job's successive observations; say after each whether the trigger fired."""
    result, previous = [], None
    for i, current in enumerate(states):
        change = APPEARED if previous is None else VANISHED if current is None else CHANGED
        event = Event(PBS_JOB, "12.srv", T0 + timedelta(minutes=i), change, previous, current)
        result.append(TRIGGER.matches_transition(cfg, event))
        previous = current
    return result


RUNNING = attrs(state="R", substate=42)
QUEUED = attrs()
HELD = attrs(state="H", substate=20)
DONE = attrs(state="F", substate=92, exit_status=0)
FAILED = attrs(state="F", substate=93, exit_status=1)
WALLTIME = attrs(state="F", substate=93, exit_status=-29)


def test_entering_fires_staying_does_not() -> None:
    assert fires(config(state="R"), [QUEUED, RUNNING, RUNNING, attrs(state="R", run_count=1)]) \
        == [False, True, False, False]


def test_leaving_and_entering_again_fires_again() -> None:
    assert fires(config(state="R"), [QUEUED, RUNNING, HELD, RUNNING]) == \
        [False, True, False, True]


def test_appearing_inside_the_condition_fires() -> None:
    assert fires(config(state="Q"), [QUEUED, QUEUED]) == [True, False]


def test_exit_status_edge() -> None:
    cfg = config(state="F", exit_status="!= 0")
    assert fires(cfg, [RUNNING, FAILED]) == [False, True]
    assert fires(cfg, [RUNNING, DONE]) == [False, False]
    assert fires(config(exit_status=-29), [RUNNING, WALLTIME]) == [False, True]


def test_from_constrains_the_previous_attributes() -> None:
    cfg = config(state="R", **{"from": {"state": "H"}})
    assert fires(cfg, [HELD, RUNNING]) == [False, True]
    assert fires(cfg, [QUEUED, RUNNING]) == [False, False]
    assert fires(cfg, [RUNNING]) == [False]  # appeared: there is no "before"
    assert fires(config(state="Q", **{"from": {"state": ["H", "W"]}}), [HELD, QUEUED]) == \
        [False, True]


def test_vanished() -> None:
    cfg = config(name="sim-*", vanished=True)
    assert fires(cfg, [QUEUED, RUNNING, None]) == [False, False, True]
    assert fires(config(vanished=True, state="H"), [RUNNING, None]) == [False, False]
    assert fires(config(vanished=True, state="H"), [HELD, None]) == [False, True]
    assert fires(config(vanished=True, name="other"), [QUEUED, None]) == [False, False]
    assert fires(config(state="R"), [RUNNING, None]) == [True, False]


def test_other_event_kinds_never_match() -> None:
    event = Event(SOURCE_DOWN, "12.srv", T0, CHANGED, QUEUED, RUNNING)
    assert not TRIGGER.matches_transition(config(state="R"), event)


@pytest.mark.parametrize(("raw", "selected"), [
    ({}, True),
    ({"id": "12.srv"}, True), ({"id": "12"}, True), ({"id": 12}, True),
    ({"id": "12.other"}, False), ({"id": "1"}, False),
    ({"name": "sim-*"}, True), ({"name": "sim"}, False), ({"name": ["x", "sim-1"]}, True),
    ({"queue": "workq"}, True), ({"queue": ["debug", "long"]}, False),
    ({"owner": "me"}, True), ({"owner": "somebody-else"}, False),
    ({"variables": {"STAGE": "fin*"}}, True), ({"variables": {"N": 5}}, True),
    ({"variables": {"STAGE": "prep"}}, False), ({"variables": {"MISSING": "*"}}, False),
    ({"name": "sim-*", "owner": "me", "queue": "workq"}, True),
])
def test_selects(raw: dict[str, Any], selected: bool) -> None:
    assert TRIGGER.selects(config(**raw), QUEUED) is selected


def test_selectors_gate_the_edge() -> None:
    assert fires(config(name="other", state="R"), [QUEUED, RUNNING]) == [False, False]


def test_holds() -> None:
    cfg = config(state=["F", "E"], exit_status="< 0")
    assert TRIGGER.holds(cfg, WALLTIME)
    assert not TRIGGER.holds(cfg, DONE)
    assert not TRIGGER.holds(cfg, None)
    assert TRIGGER.holds(config(substate="90..99"), FAILED)


def test_subject_key_only_for_a_full_id() -> None:
    assert TRIGGER.subject_key(config(id="12.srv")) == "12.srv"
    assert TRIGGER.subject_key(config(id="12")) is None
    assert TRIGGER.subject_key(config(name="x")) is None


def test_describe() -> None:
    cfg = config(name="sim-*", owner="me", exit_status=-29, **{"from": {"state": "R"}})
    assert TRIGGER.describe(cfg) == "pbs_job(name=sim-*, owner=me, exit_status=-29, " \
                                    "from={state=R})"


@pytest.mark.parametrize(("raw", "message"), [
    ({"state": "Z"}, "expected one of Q, R, H, W, T, E, F, X, B, M, S, U but got 'Z'"),
    ({"state": ["R", "r"]}, "expected one of Q, R, H, W, T, E, F, X, B, M, S, U but got 'r' "
                            "(did you mean 'R'?)"),
    ({"vanished": True, "from": {"state": "R"}},
     "at most one of 'vanished' and 'from': with 'vanished' the levels already apply to the "
     "job's last known attributes"),
])
def test_config_rejects(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        PbsJobConfig.model_validate(raw)
    assert str(excinfo.value.errors()[0]["ctx"]["error"]) == message


def test_attributes_are_the_snapshot_fields() -> None:
    assert TRIGGER.attributes == frozenset(JOB.attributes())


def test_a_job_moved_into_the_selection_while_in_the_state_enters():
    """Routed from routeq to workq while queued: it enters `{queue: workq, state: Q}`."""
    from datetime import UTC, datetime

    from watcher.events import PBS_JOB, Event
    from watcher.triggers import TRIGGERS

    trigger = TRIGGERS["pbs_job"]
    config = trigger.Config(queue="workq", state="Q")
    before = {"id": "1.s", "name": "a", "owner": "u", "queue": "routeq", "state": "Q"}
    after = {**before, "queue": "workq"}
    event = Event(PBS_JOB, "1.s", datetime.now(UTC), "changed", before, after)
    assert trigger.matches_transition(config, event)
    staying = Event(PBS_JOB, "1.s", datetime.now(UTC), "changed", after, after)
    assert not trigger.matches_transition(config, staying)
