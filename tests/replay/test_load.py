"""Timeline files: defaults, times, and errors that name file, line, column and field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watcher.actions import ACTIONS
from watcher.lang.errors import expected_one_of
from watcher.replay.load import TimelineError, load_timeline, parse_timeline
from watcher.replay.timeline import DEFAULT_START

T = Path("t.yaml")


def errors(text: str, rules: tuple[str, ...] | None = None) -> list[str]:
    with pytest.raises(TimelineError) as caught:
        parse_timeline(text, T, rule_names=rules)
    return [str(error) for error in caught.value.errors]


def test_offsets_and_timestamps_become_absolute_times() -> None:
    timeline = parse_timeline("""
start: 2026-01-05T08:00:00Z
steps:
  - {at: 0, jobs: {}}
  - {at: 1m30s, jobs: {}}
  - {at: "01:00:00", pbs: down}
  - {at: 2026-01-05T10:00:00Z, jobs: {}}
  - {at: "2026-01-05T11:00:00+01:00", jobs: {}}
until: 3h
""", T)
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert [step.at - start for step in timeline.steps] == [
        timedelta(0), timedelta(seconds=90), timedelta(hours=1), timedelta(hours=2),
        timedelta(hours=2)]
    assert [step.healthy for step in timeline.steps] == [True, True, False, True, True]
    assert timeline.until == start + timedelta(hours=3)
    assert timeline.expect is None and timeline.down_after == 3


def test_defaults_start_user_and_until(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "carol")
    monkeypatch.setenv("LOGNAME", "carol")
    timeline = parse_timeline("steps:\n  - {at: 5s, jobs: {7: {}}}\nexpect:\n", T)
    assert timeline.start == DEFAULT_START and timeline.user == "carol"
    assert timeline.until == DEFAULT_START + timedelta(seconds=5)
    assert timeline.expect == []  # `expect:` present but empty: nothing may fire
    assert timeline.steps[0].jobs["7"]["owner"] == "carol"  # a numeric id is a job id too


def test_expectations_keep_their_lines() -> None:
    timeline = parse_timeline("""\
steps: [{at: 0s, jobs: {}}]
expect:
  - {rule: a}
  - {rule: b, at: 40s, subject: 12, action: qrls, params: {job: 13.pbs}}
""", T, rule_names=["a", "b"])
    first, second = timeline.expect
    assert (first.line, first.at, first.subject) == (3, None, None)
    assert (second.line, second.at, second.subject) == (4, DEFAULT_START + timedelta(seconds=40),
                                                        "12")
    assert second.params == {"job": "13.pbs"}


BAD = [
    ("", ["t.yaml: expected a mapping but got nothing"]),
    ("steps: []\n", ["t.yaml:1:8: steps: expected at least 1 item(s)"]),
    ("stpes: []\n", ["t.yaml:1:1: missing required key 'steps'",
                     "t.yaml:1:1: stpes: unknown key 'stpes' (did you mean 'steps'?)"]),
    ("steps:\n  - at: soon\n    jobs: {}\n",
     ["t.yaml:2:9: steps[0].at: expected an offset like '40s', '2m', '1h30m' or a timestamp "
      "like 2026-01-05T08:00:00Z but got 'soon'"]),
    ("steps:\n  - {at: 2026-01-05, jobs: {}}\n",
     ["t.yaml:2:10: steps[0].at: expected a timestamp with a time of day but got '2026-01-05'"]),
    ("steps:\n  - {at: 0s}\n",
     ["t.yaml:2:5: steps[0]: expected either 'jobs' (what qstat showed) or 'pbs: down' "
      "(a failed poll)"]),
    ("steps:\n  - {at: 0s, pbs: up}\n",
     ["t.yaml:2:19: steps[0].pbs: expected one of down but got 'up'"]),
    ("steps:\n  - at: 0s\n    jobs:\n      12.pbs: {stat: R, substate: x, state: Z}\n",
     ["t.yaml:4:16: steps[0].jobs.12.pbs.stat: unknown key 'stat' (did you mean 'state'?)",
      "t.yaml:4:35: steps[0].jobs.12.pbs.substate: expected an integer but got 'x'",
      "t.yaml:4:45: steps[0].jobs.12.pbs.state: expected one of Q, R, H, W, T, E, F, X, B, M, "
      "S, U but got 'Z'"]),
    ("steps:\n  - {at: 0s, jobs: {1: {variables: {A: [1]}}}}\n",
     ["t.yaml:2:36: steps[0].jobs.1.variables: variable 'A' must be a plain value, not a "
      "mapping or list (PBS variables are strings)"]),
    ("steps:\n  - {at: 40s, jobs: {}}\n  - {at: 30s, pbs: down}\n",
     ["t.yaml:3:10: steps[1].at: +30s is before the previous step (+40s)"]),
    ("start: 2026-01-05T08:00:00Z\nsteps:\n  - {at: 2026-01-05T07:00:00Z, jobs: {}}\n",
     ["t.yaml:3:10: steps[0].at: -1h is before start (+0s)"]),
    ("steps:\n  - {at: 1m, jobs: {}}\nuntil: 30s\n",
     ["t.yaml:3:8: until: is before the last step"]),
    ("steps:\n  - {at: 0s, jobs: {}}\n  - {at: 0s, jobs: {}, error: x}\n",
     ["t.yaml:3:5: steps[1]: 'error' goes with 'pbs: down'"]),
    ("steps: [{at: 0s, jobs: {}}]\nexpect:\n  - {rule: relase, action: qrel}\n",
     [f"t.yaml:3:28: expect[0].action: {expected_one_of(ACTIONS, 'qrel')}"]),
    ("steps: [{at: 0s, jobs: {}}]\nexpect:\n  - {rule: relase}\n",
     ["t.yaml:3:12: expect[0].rule: no rule named 'relase' (did you mean 'release'?)"]),
    ("steps:\n  - {at: 0s, jobs: {}}\nsteps: []\n",
     ["t.yaml:3:1: steps: duplicate key 'steps' (first at line 1)",
      "t.yaml:3:8: steps: expected at least 1 item(s)"]),
    ("steps: [{at: 0s, jobs: {}\n", ["t.yaml:2:1: invalid YAML: expected ',' or '}', but got "
                                     "'<stream end>'"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_timelines_are_rejected_with_exact_errors(text: str, expected: list[str]) -> None:
    assert errors(text, rules=("release",)) == expected


def test_an_unreadable_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(TimelineError) as caught:
        load_timeline(tmp_path / "missing.yaml")
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}: cannot read: No such file or " \
                                "directory"
