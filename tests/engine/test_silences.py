"""Silences: stored as facts (on SQLite and PostgreSQL), matched by rule and subject globs,
consuming the edge they mute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from tests.store.conftest import store, store_url
from watcher.engine.decide import Verdict
from watcher.engine.engine import Engine
from watcher.engine.silences import (
    Silence,
    add_silence,
    covering,
    end_silence,
    load_silences,
)
from watcher.events import PBS_JOB, Event
from watcher.rules.loader import load_rule_text
from watcher.store.db import Store
from watcher.store.models import Firing, Intent

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
__all__ = ["store", "store_url"]  # the store's tests run on each database kind
RULES = """
rules:
  - name: hold-failed
    when: {pbs_job: {state: F, exit_status: "!= 0"}}
    do: [{qhold: {job: "{{ job.id }}"}}]
  - name: held-too-long
    when: {pbs_job: {state: H}}
    for: 30s
    do: [{qrls: {job: "{{ job.id }}"}}]
"""


def silence(rule: str = "hold-*", subject: str | None = None, until: datetime = T0 + HOUR,
            comment: str = "") -> Silence:
    return Silence("ab12cd34", rule, until, T0, "alice", subject, comment)


@pytest.mark.parametrize(("s", "rule", "subject", "covered"), [
    (silence(), "hold-failed", "1.sim", True),
    (silence(), "held-too-long", "1.sim", False),
    (silence("*"), "held-too-long", "1.sim", True),
    (silence(subject="1*.sim"), "hold-failed", "12.sim", True),
    (silence(subject="1*.sim"), "hold-failed", "2.sim", False),
    (silence(until=T0), "hold-failed", "1.sim", False),  # ends at `until`
    (silence("Hold-*"), "hold-failed", "1.sim", False),  # rule names are case-sensitive
])
def test_a_silence_covers_matching_rules_and_subjects_until_it_ends(s, rule, subject, covered):
    assert s.covers(rule, subject, T0) is covered


def test_the_longest_covering_silence_explains_the_suppression():
    short, long = silence(until=T0 + HOUR), silence("*", until=T0 + 2 * HOUR, comment="upgrade")
    assert covering([short, long], "hold-failed", "1.sim", T0) is long
    assert long.reason == "silenced until 2026-01-01 14:00:00 UTC by ab12cd34 (upgrade)"
    assert short.reason == "silenced until 2026-01-01 13:00:00 UTC by ab12cd34"
    assert covering([short], "other", "1.sim", T0) is None


@pytest.fixture
def engine() -> Engine:
    ruleset = load_rule_text(RULES, "rules.yaml")
    assert ruleset.ok, ruleset.errors
    return Engine(ruleset.rules)


def job(state: str, exit_status: int | None = None, job_id: str = "1.sim") -> dict:
    return {"id": job_id, "name": "x", "owner": "alice", "queue": "workq", "state": state,
            "substate": None, "exit_status": exit_status, "hold_types": "n", "comment": "",
            "run_count": 0, "depend": "", "submit_arguments": "", "workdir": "/tmp",
            "variables": {}}


def ev(prev: dict, cur: dict, at: datetime = T0) -> Event:
    return Event(PBS_JOB, cur["id"], at, "changed", prev, cur)


def mute(store: Store, rule: str, **kw) -> Silence:
    with store.session() as s:
        return add_silence(s, rule, HOUR, T0, created_by="alice", **kw)


def intents(store: Store) -> list[str]:
    with store.session(write=False) as s:
        return [i.params["job"] for i in s.exec(select(Intent).order_by(Intent.id))]


def test_silences_are_stored_listed_and_ended_on_record(store):
    added = mute(store, "hold-*", subject="1.sim", comment="maintenance")
    with store.session() as s:
        assert load_silences(s) == [added]
        ended = end_silence(s, added.id, T0 + timedelta(minutes=5))
        assert end_silence(s, "nope", T0) is None
    assert ended is not None and ended.until == T0 + timedelta(minutes=5)
    with store.session(write=False) as s:
        [kept] = load_silences(s)
    assert kept == ended and not kept.active(T0 + timedelta(minutes=5))


def test_a_silenced_firing_is_recorded_without_actions(store, engine):
    added = mute(store, "hold-failed", comment="known outage")
    with store.session() as s:
        [report] = engine.process(s, [ev(job("R"), job("F", 1))], T0)
    assert report.verdict is Verdict.SUPPRESSED and report.actions == ()
    assert report.reason == added.reason and "(known outage)" in report.reason
    assert intents(store) == []
    with store.session(write=False) as s:
        [firing] = s.exec(select(Firing)).all()
    assert (firing.rule, firing.subject, firing.reason) == ("hold-failed", "1.sim", added.reason)


def test_lifting_a_silence_does_not_replay_the_muted_edge(store, engine):
    added = mute(store, "hold-failed")
    with store.session() as s:
        engine.process(s, [ev(job("R"), job("F", 1))], T0)
        end_silence(s, added.id, T0 + timedelta(minutes=1))
    later = T0 + timedelta(minutes=2)
    with store.session() as s:  # the same level seen again: no new edge
        assert engine.process(s, [ev(job("F", 1), job("F", 1), later)], later) == []
    other = job("F", 2, job_id="2.sim")
    with store.session() as s:  # a new edge after the silence fires as usual
        [report] = engine.process(s, [ev(job("R", job_id="2.sim"), other, later)], later)
    assert report.verdict is Verdict.FIRE and intents(store) == ["2.sim"]


def test_a_subject_glob_mutes_only_matching_subjects(store, engine):
    mute(store, "hold-failed", subject="1*.sim")
    with store.session() as s:
        reports = engine.process(s, [
            ev(job("R", job_id="12.sim"), job("F", 1, job_id="12.sim")),
            ev(job("R", job_id="2.sim"), job("F", 1, job_id="2.sim")),
        ], T0)
    assert [r.verdict for r in reports] == [Verdict.SUPPRESSED, Verdict.FIRE]
    assert intents(store) == ["2.sim"]


def test_an_elapsed_for_window_is_silenced_too(store, engine):
    with store.session() as s:
        engine.process(s, [ev(job("Q"), job("H"))], T0)
    mute(store, "held-*")
    with store.session() as s:
        [report] = engine.tick(s, T0 + timedelta(seconds=31))
        assert engine.tick(s, T0 + timedelta(seconds=60)) == []  # one decision per entry
    assert report.verdict is Verdict.SUPPRESSED and report.reason.startswith("silenced until")
    assert intents(store) == []


def test_an_ended_silence_mutes_nothing(store, engine):
    added = mute(store, "*")
    with store.session() as s:
        end_silence(s, added.id, T0)
        [report] = engine.process(s, [ev(job("R"), job("F", 1))], T0)
    assert report.verdict is Verdict.FIRE and intents(store) == ["1.sim"]
