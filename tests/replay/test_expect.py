"""Expectations against replayed actions: what was missed, what was not expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.engine.decide import Verdict
from watcher.replay.expect import compare
from watcher.replay.run import Decision, PlannedAction
from watcher.replay.timeline import Expectation

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fired(rule: str, subject: str, seconds: int, *actions: tuple[str, dict]) -> Decision:
    planned = tuple(PlannedAction(i, kind, params, params) for i, (kind, params)
                    in enumerate(actions))
    return Decision(T0 + timedelta(seconds=seconds), rule, subject, Verdict.FIRE, "why", planned)


RELEASE = fired("release", "12.pbs", 40, ("qrls", {"job": "13.pbs", "hold": "u"}),
                ("qdel", {"job": "14.pbs"}))


def test_every_action_met_by_one_expectation() -> None:
    result = compare([
        Expectation("release", action="qdel"),
        Expectation("release", at=T0 + timedelta(seconds=40), subject="12.pbs", action="qrls",
                    params={"job": "13.pbs"}),
    ], [RELEASE])
    assert result.ok


def test_a_precise_expectation_is_not_robbed_by_a_loose_one() -> None:
    loose_first = [Expectation("release"), Expectation("release", params={"job": "13.pbs"})]
    assert compare(loose_first, [RELEASE]).ok


def test_missing_and_unexpected_make_the_diff() -> None:
    wrong_time = Expectation("release", at=T0 + timedelta(seconds=30), action="qrls")
    result = compare([wrong_time, Expectation("release", action="qdel")], [RELEASE])
    assert result.missing == [wrong_time]
    assert [(d.rule, a.type) for d, a in result.unexpected] == [("release", "qrls")]


def test_only_firings_count_and_numbers_match_rendered_text() -> None:
    suppressed = Decision(T0, "release", "12.pbs", Verdict.SUPPRESSED, "once: already fired")
    numbered = fired("kill", "7.pbs", 0, ("qdel", {"job": "7"}))
    result = compare([Expectation("kill", params={"job": 7})], [suppressed, numbered])
    assert result.ok
    assert not compare([], [numbered]).ok
