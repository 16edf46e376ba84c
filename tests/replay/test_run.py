"""Replays go through the service's observe and engine code: edges, windows, vanishing, outages."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from watcher.engine.decide import Verdict
from watcher.events import PBS_JOB, SOURCE_DOWN, SOURCE_UP
from watcher.replay import ReplayResult, parse_timeline, replay
from watcher.rules.loader import load_rule_text

RULES = """
rules:
  - name: release-compute
    when: {pbs_job: {name: stage-in, state: F, exit_status: 0}}
    do:
      - qrls: {job: "{{ job.variables.COMPUTE }}"}
      - email: {to: "{{ user.email }}", subject: "released for {{ user.name }}"}
  - name: held-too-long
    when: {pbs_job: {name: compute, state: H}}
    for: 30s
    do: [{qdel: {job: "{{ job.id }}"}}]
  - name: gone
    when: {pbs_job: {vanished: true}}
    do: [{qhold: {job: "{{ job.id }}"}}]
  - name: pbs-down
    when: {source_down: pbs}
    do: [{qhold: {job: "{{ vars.canary }}"}}]
    vars: {canary: "1.pbs"}
"""


def run(timeline: str, rules: str = RULES) -> ReplayResult:
    ruleset = load_rule_text(rules, "rules.yaml")
    assert ruleset.ok, ruleset.errors
    return replay(ruleset.rules, parse_timeline(timeline, Path("t.yaml")))


def seen(result: ReplayResult) -> list[tuple[str, str, str, str, list[str]]]:
    offset = result.timeline.offset
    return [(offset(d.at), d.rule, d.subject, d.verdict.value, [str(a) for a in d.actions])
            for d in result.decisions]


def test_an_edge_fires_with_rendered_params_and_the_user_from_the_timeline() -> None:
    result = run("""
user: alice
email: alice@example.org
steps:
  - {at: 0s, jobs: {12.pbs: {name: stage-in, state: R, variables: {COMPUTE: 13.pbs}}}}
  - {at: 40s, jobs: {12.pbs: {name: stage-in, state: F, exit_status: 0,
                              variables: {COMPUTE: 13.pbs}}}}
  - {at: 50s, jobs: {12.pbs: {name: stage-in, state: F, exit_status: 0,
                              variables: {COMPUTE: 13.pbs}}}}
""")
    assert seen(result) == [("+40s", "release-compute", "12.pbs", "fire", [
        "qrls(job=13.pbs)", "email(to=alice@example.org, subject=released for alice)"])]
    [decision] = result.firings
    assert "pbs_job 12.pbs R→F entered pbs_job(name=stage-in" in decision.reason
    assert decision.actions[0].params == {"job": "13.pbs", "hold": "u"}  # as enqueued


def test_a_for_window_fires_between_steps_at_its_due_time() -> None:
    result = run("""
steps:
  - {at: 0s, jobs: {13.pbs: {name: compute, state: H}}}
  - {at: 10m, jobs: {13.pbs: {name: compute, state: H}}}
""")
    assert seen(result) == [
        ("+0s", "held-too-long", "13.pbs", "pending", []),
        ("+30s", "held-too-long", "13.pbs", "fire", ["qdel(job=13.pbs)"]),
    ]


def test_a_window_still_open_at_the_last_step_fires_only_within_until() -> None:
    steps = "steps:\n  - {at: 0s, jobs: {13.pbs: {name: compute, state: H}}}\n"
    assert [d.verdict for d in run(steps).decisions] == [Verdict.PENDING]
    fired = run(steps + "until: 1m\n").firings
    assert [(d.rule, d.at - run(steps).timeline.start) for d in fired] == [
        ("held-too-long", timedelta(seconds=30))]


def test_leaving_before_the_window_cancels_it() -> None:
    result = run("""
steps:
  - {at: 0s, jobs: {13.pbs: {name: compute, state: H}}}
  - {at: 20s, jobs: {13.pbs: {name: compute, state: R}}}
until: 5m
""")
    assert [(o, v) for o, _, _, v, _ in seen(result)] == [("+0s", "pending"),
                                                         ("+20s", "cancelled")]


def test_a_job_vanishes_after_two_healthy_steps_without_it_not_counting_outages() -> None:
    result = run("""
steps:
  - {at: 0s, jobs: {13.pbs: {state: R}}}
  - {at: 30s, jobs: {}}
  - {at: 60s, pbs: down}
  - {at: 90s, jobs: {}}
""")
    assert seen(result) == [("+1m30s", "gone", "13.pbs", "fire", ["qhold(job=13.pbs)"])]
    assert [(e.subject, e.change) for e in result.events] == [("13.pbs", "appeared"),
                                                              ("13.pbs", "vanished")]


def test_pbs_down_makes_no_job_events_and_source_down_after_down_after_failures() -> None:
    result = run("""
down_after: 2
steps:
  - {at: 0s, jobs: {13.pbs: {state: R}}}
  - {at: 30s, pbs: down}
  - {at: 60s, pbs: down, error: "qstat: cannot connect to server pbs1 (errno=111)"}
  - {at: 90s, pbs: down}
  - {at: 2m, jobs: {13.pbs: {state: R}}}
""")
    kinds = [(result.timeline.offset(e.at), e.kind, e.subject) for e in result.events]
    assert kinds == [("+0s", PBS_JOB, "13.pbs"), ("+1m", SOURCE_DOWN, "pbs"),
                     ("+2m", SOURCE_UP, "pbs")]
    assert result.events[1].data["error"] == "qstat: cannot connect to server pbs1 (errno=111)"
    assert seen(result) == [("+1m", "pbs-down", "pbs", "fire", ["qhold(job=1.pbs)"])]


def test_limits_suppress_with_their_reason() -> None:
    result = run("""
steps:
  - {at: 0s, jobs: {5.pbs: {name: stage-in, state: R}}}
  - {at: 1m, jobs: {5.pbs: {name: stage-in, state: F, exit_status: 0}}}
  - {at: 2m, jobs: {5.pbs: {name: stage-in, state: R}}}
  - {at: 3m, jobs: {5.pbs: {name: stage-in, state: F, exit_status: 0}}}
""", rules="""
rules:
  - name: once-only
    when: {pbs_job: {name: stage-in, state: F, exit_status: 0}}
    once: true
    do: [{qrls: {job: "9.pbs"}}]
""")
    assert [(o, v) for o, _, _, v, _ in seen(result)] == [("+1m", "fire"), ("+3m", "suppressed")]
    assert result.decisions[1].reason == "once: already fired"


def test_a_template_error_shows_as_a_dead_action() -> None:
    result = run("steps:\n  - {at: 0s, jobs: {5.pbs: {state: R}}}\n", rules="""
rules:
  - name: broken
    when: {pbs_job: {state: R}}
    do: [{qrls: {job: "{{ job.variables.MISSING }}"}}]
""")
    [action] = result.firings[0].actions
    assert action.error is not None and "do[0].qrls" in action.error


def test_the_temporary_store_is_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run("steps:\n  - {at: 0s, jobs: {5.pbs: {state: R}}}\n")
    assert list(tmp_path.iterdir()) == []


def test_firings_that_join_a_group_show_the_group_action() -> None:
    result = run("""
email: ops@example.org
steps:
  - {at: 0s, jobs: {1.pbs: {state: R}, 2.pbs: {state: R}}}
  - {at: 1m, jobs: {1.pbs: {state: F, exit_status: 3}, 2.pbs: {state: F, exit_status: 4}}}
""", rules="""
rules:
  - name: failed
    when: {pbs_job: {state: F, exit_status: "!= 0"}}
    do: [{email: {to: "{{ user.email }}", group_by: [rule]}}]
""")
    assert [(d.subject, [str(a) for a in d.actions], [a.grouped for a in d.actions])
            for d in result.firings] == [
        ("1.pbs", ["email(to=ops@example.org, group_by=['rule'])"], [True]),
        ("2.pbs", ["email(to=ops@example.org, group_by=['rule'])"], [True])]
    # Each firing shows the group intent as it stood right after that firing.
    first, second = ([item["subject"] for item in d.actions[0].params["digest"]["items"]]
                     for d in result.firings)
    assert (first, second) == (["1.pbs"], ["1.pbs", "2.pbs"])
