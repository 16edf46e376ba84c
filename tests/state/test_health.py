"""`update_health`: SOURCE_DOWN once after N failures, SOURCE_UP once when it answers again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.events import SOURCE_DOWN, SOURCE_UP
from watcher.sources.base import Observation
from watcher.state.health import SourceHealthState, update_health

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
OK = Observation("pbs", True, T0)
ERROR = "qstat: cannot connect to server pbs (errno=111)"
FAIL = Observation.failed("pbs", T0, ERROR)


def run(sequence: list[Observation], down_after: int = 3):
    state, events = SourceHealthState(), []
    for i, obs in enumerate(sequence):
        state, new = update_health(state, obs, down_after=down_after, now=T0 + timedelta(minutes=i))
        events.append([(e.kind, e.subject, e.at.minute) for e in new])
    return state, events


def test_healthy_polls_say_nothing() -> None:
    assert run([OK, OK]) == (SourceHealthState(), [[], []])


def test_down_once_after_n_failures_with_the_error() -> None:
    state, events = run([FAIL] * 5)
    assert events == [[], [], [("source_down", "pbs", 2)], [], []]
    assert state == SourceHealthState(failures=5, healthy=False, down_emitted=True)
    _, [down] = update_health(SourceHealthState(2, False), FAIL, down_after=3, now=T0)
    assert down.kind == SOURCE_DOWN and down.data == {"error": ERROR, "failures": 3}


def test_a_short_outage_is_not_down_and_recovers_silently() -> None:
    state, events = run([FAIL, FAIL, OK, FAIL])
    assert events == [[], [], [], []]
    assert state == SourceHealthState(failures=1, healthy=False, down_emitted=False)


def test_up_once_after_a_down() -> None:
    state, events = run([FAIL, FAIL, OK, OK], down_after=2)
    assert events == [[], [("source_down", "pbs", 1)], [("source_up", "pbs", 2)], []]
    assert state == SourceHealthState()
    _, [up] = update_health(SourceHealthState(4, False, True), OK, down_after=2, now=T0)
    assert up.kind == SOURCE_UP and up.data == {"failures": 4}


def test_down_after_zero_or_one_means_the_first_failure() -> None:
    for n in (0, 1):
        assert run([FAIL], down_after=n)[1] == [[("source_down", "pbs", 0)]]
