"""The engine against a real store: firings, intents and edge states committed together."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from watcher.engine.decide import Verdict
from watcher.engine.engine import Engine
from watcher.events import PBS_JOB, VANISHED, Event
from watcher.rules.loader import load_rule_text
from watcher.store.models import DEAD, Firing, Intent

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)

RULES = """
rules:
  - name: release-after-ok
    when: {pbs_job: {name: "pre-*", state: F, exit_status: 0}}
    do:
      - qrls: {job: "{{ job.variables.NEXT }}"}
      - qdel: {job: "{{ job.variables.CLEANUP }}"}
  - name: held-too-long
    when: {pbs_job: {state: H}}
    for: 30s
    do: [{qrls: {job: "{{ job.id }}"}}]
  - name: gone
    when: {pbs_job: {vanished: true}}
    once: true
    do: [{qhold: {job: "{{ job.id }}"}}]
"""


def job(state, *, name="pre-1", exit_status=None, job_id="1.sim", **variables):
    return {"id": job_id, "name": name, "owner": "alice", "queue": "workq", "state": state,
            "substate": None, "exit_status": exit_status, "hold_types": "n", "comment": "",
            "run_count": 0, "depend": "", "submit_arguments": "", "workdir": "/tmp",
            "variables": {"NEXT": "2.sim", "CLEANUP": "3.sim", **variables}}


def ev(prev, cur, at=T0, change="changed", subject="1.sim"):
    return Event(PBS_JOB, subject, at, change, prev, cur)


@pytest.fixture
def engine():
    ruleset = load_rule_text(RULES, "rules.yaml")
    assert ruleset.ok, ruleset.errors
    return Engine(ruleset.rules, user={"name": "alice"})


def intents(store):
    with store.session() as s:
        return [(i.rule, i.action_type, i.params, i.after_key is not None, i.status)
                for i in s.exec(select(Intent).order_by(Intent.id)).all()]


def test_an_edge_fires_once_with_rendered_params_in_order(store, engine):
    with store.session() as s:
        engine.process(s, [ev(job("R"), job("F", exit_status=0))], T0)
    with store.session() as s:  # the same level seen again is not an edge
        engine.process(s, [ev(job("F", exit_status=0), job("F", exit_status=0))], T0)
    assert intents(store) == [
        ("release-after-ok", "qrls", {"job": "2.sim", "hold": "u"}, False, "pending"),
        ("release-after-ok", "qdel", {"job": "3.sim"}, True, "pending"),
    ]


def test_a_failed_predecessor_does_not_fire(store, engine):
    with store.session() as s:
        reports = engine.process(s, [ev(job("R"), job("F", exit_status=1))], T0)
    assert reports == [] and intents(store) == []


def test_for_window_survives_a_new_engine_and_fires_once(store, engine):
    with store.session() as s:
        opened = engine.process(s, [ev(job("Q"), job("H"))], T0)
    assert [r.verdict for r in opened] == [Verdict.PENDING]
    restarted = Engine(engine.rules)
    with store.session() as s:
        assert restarted.next_due(s) == T0 + timedelta(seconds=30)
        assert restarted.tick(s, T0 + timedelta(seconds=10)) == []
    with store.session() as s:
        fired = restarted.tick(s, T0 + timedelta(seconds=31))
    with store.session() as s:
        again = restarted.tick(s, T0 + timedelta(seconds=60))
    assert [r.verdict for r in fired] == [Verdict.FIRE] and again == []
    assert intents(store) == [("held-too-long", "qrls", {"job": "1.sim", "hold": "u"}, False,
                               "pending")]


def test_leaving_before_the_window_cancels_it(store, engine):
    with store.session() as s:
        engine.process(s, [ev(job("Q"), job("H"))], T0)
        reports = engine.process(s, [ev(job("H"), job("Q"), T0 + timedelta(seconds=5))], T0)
        assert [r.verdict for r in reports] == [Verdict.CANCELLED]
        assert engine.tick(s, T0 + timedelta(minutes=5)) == []
    assert intents(store) == []


def test_vanished_fires_and_once_holds_across_subjects(store, engine):
    with store.session() as s:
        engine.process(s, [ev(job("Q"), None, change=VANISHED)], T0)
        engine.process(s, [ev(job("Q", job_id="9.sim"), None, change=VANISHED,
                              subject="9.sim")], T0)
    # `once` is per subject: each job may vanish once.
    assert [i[2]["job"] for i in intents(store)] == ["1.sim", "9.sim"]


def test_a_template_error_is_recorded_as_a_dead_intent(store):
    ruleset = load_rule_text("""
rules:
  - name: broken
    when: {pbs_job: {state: R}}
    do: [{qrls: {job: "{{ job.variables.MISSING }}"}}]
""", "r.yaml")
    with store.session() as s:
        Engine(ruleset.rules).process(s, [ev(job("Q"), job("R"))], T0)
    with store.session() as s:
        intent = s.exec(select(Intent)).one()
        assert intent.status == DEAD and "do[0].qrls" in intent.last_error
        assert s.exec(select(Firing)).one().rule == "broken"


def test_a_window_whose_subject_left_while_the_rule_was_out_of_force_does_not_fire(store):
    """A typo took the rule out of force, the job was released meanwhile, the typo was fixed."""
    held = load_rule_text(RULES, "rules.yaml").rules
    with store.session() as s:
        Engine(held).process(s, [ev(job("Q"), job("H"))], T0)
    without = [r for r in held if r.name != "held-too-long"]
    with store.session() as s:  # the job runs while the rule is not loaded
        Engine(without).process(s, [ev(job("H"), job("R"), T0 + timedelta(seconds=5))], T0)
    with store.session() as s:
        reports = Engine(held).tick(s, T0 + timedelta(minutes=5))
    assert [r.verdict for r in reports] == [Verdict.CANCELLED]
    assert intents(store) == []


def test_a_rule_is_not_fed_by_its_own_failed_actions(store):
    from watcher.events import ACTION_FAILED

    ruleset = load_rule_text("""
rules:
  - name: tell
    when: action_failed
    do: [{qdel: {job: "{{ event.attrs.rule }}"}}]
""", "r.yaml")
    failure = {"rule": "tell", "action": "qdel", "step": 0, "key": "k", "attempts": 8,
               "error": "x"}
    other = {**failure, "rule": "release"}
    with store.session() as s:
        Engine(ruleset.rules).process(s, [
            Event(ACTION_FAILED, "1.sim", T0, current=failure, data=failure),
            Event(ACTION_FAILED, "1.sim", T0, current=other, data=other)], T0)
    assert [i[2] for i in intents(store)] == [{"job": "release"}]


def test_a_subject_listed_again_inside_the_condition_is_no_new_entry(store, engine):
    """A subject forgotten and announced again (a Globus task that joins the watch list after
    it ended) while still inside: the rule that fired for it remembers and stays quiet."""
    done = job("F", exit_status=0)
    with store.session() as s:
        engine.process(s, [ev(None, done, change="appeared")], T0)
    with store.session() as s:
        engine.process(s, [ev(None, done, at=T0 + timedelta(seconds=5), change="appeared")],
                       T0 + timedelta(seconds=5))
    assert [i[:2] for i in intents(store)] == [("release-after-ok", "qrls"),
                                               ("release-after-ok", "qdel")]


def test_a_rule_its_conditions_held_back_decides_anew_when_the_subject_is_listed_again(store):
    ruleset = load_rule_text("""
rules:
  - name: after-a-run
    when: {pbs_job: {state: F}}
    conditions: [{subject: {run_count: ">= 1"}}]
    do: [{qrls: {job: "{{ job.id }}"}}]
""", "rules.yaml")
    engine = Engine(ruleset.rules, user={"name": "alice"})
    with store.session() as s:
        engine.process(s, [ev(None, job("F"), change="appeared")], T0)
    assert intents(store) == []  # entered, but its condition did not hold
    later = T0 + timedelta(seconds=5)
    with store.session() as s:
        engine.process(s, [ev(None, job("F") | {"run_count": 1}, at=later, change="appeared")],
                       later)
    assert [i[:2] for i in intents(store)] == [("after-a-run", "qrls")]
