"""Grouping against a real store (SQLite, and PostgreSQL where a server can start): one group
intent per group, items appended in the engine's transaction, `group_wait` and
`repeat_interval` deciding when it runs, one digest email."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from tests.store.conftest import store, store_url
from watcher.actions.base import Services
from watcher.engine import grouping
from watcher.engine.engine import Engine
from watcher.events import PBS_JOB, Event
from watcher.ledger.runner import ActionRunner
from watcher.mail.sink import SmtpSink
from watcher.pbs.commands import PbsCommands
from watcher.rules.loader import load_rule_text
from watcher.store.db import Store
from watcher.store.models import DEAD, DONE, Firing, Intent

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
STORM = """
rules:
  - name: storm
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - email: {to: ops@example.org, group_by: [rule], group_wait: 2s, repeat_interval: 1h}
"""


def job(n: int, *, state: str = "F", exit_status: int | None = 1, queue: str = "workq",
        **variables: str) -> dict[str, Any]:
    return {"id": f"{n}.sim", "name": f"storm-{n}", "owner": "alice", "queue": queue,
            "state": state, "substate": None, "exit_status": exit_status, "hold_types": "n",
            "comment": "", "run_count": 1, "depend": "", "submit_arguments": "",
            "workdir": "/tmp", "variables": variables}


def failed(n: int, at: datetime = T0, **attrs: Any) -> Event:
    """Job n goes from running to finished with a non-zero exit status."""
    before = job(n, state="R", exit_status=None, **attrs)
    return Event(PBS_JOB, f"{n}.sim", at, "changed", before, job(n, **attrs))


def engine_for(text: str) -> Engine:
    ruleset = load_rule_text(text, "rules.yaml")
    assert ruleset.ok, ruleset.errors
    return Engine(ruleset.rules, user={"name": "alice", "email": "alice@example.org"})

__all__ = ["store", "store_url"]  # every test runs on each database kind


def process(store: Store, engine: Engine, events: list[Event], now: datetime = T0) -> None:
    with store.session() as s:
        engine.process(s, events, now)


def intents(store: Store) -> list[Intent]:
    with store.session(write=False) as s:
        return list(s.exec(select(Intent).order_by(Intent.id)))


def subjects(intent: Intent) -> list[str]:
    return [item["subject"] for item in intent.params["digest"]["items"]]


def run_due(store: Store, now: datetime, sink: SmtpSink | None = None) -> None:
    services = Services(smtp=sink.settings() if sink is not None else None)
    runner = ActionRunner(store, PbsCommands(), "worker", lambda: now, services=services)
    asyncio.run(runner.run_due())


def test_firings_of_one_group_share_one_intent_due_after_group_wait(store):
    process(store, engine_for(STORM), [failed(n) for n in range(1, 4)])
    [intent] = intents(store)
    assert intent.key.startswith("storm|group|") and intent.key.endswith("|1")
    assert subjects(intent) == ["1.sim", "2.sim", "3.sim"]
    assert intent.params["digest"]["group"] == {"rule": "storm"}
    assert intent.next_attempt_at == T0 + timedelta(seconds=2)
    assert intent.params["digest"]["items"][0]["line"] == (
        "job 1.sim (storm-1) ended, exit 1: the job script exited with 1")
    with store.session(write=False) as s:  # every firing is on record, with its item
        firings = s.exec(select(Firing).order_by(Firing.id)).all()
    assert [f.id for f in firings] == [i["firing_id"] for i in intent.params["digest"]["items"]]


def test_later_firings_join_the_open_group_in_their_own_transactions(store):
    engine = engine_for(STORM)
    process(store, engine, [failed(1)])
    process(store, engine, [failed(2, T0 + timedelta(seconds=1))], T0 + timedelta(seconds=1))
    [intent] = intents(store)
    assert subjects(intent) == ["1.sim", "2.sim"]
    assert intent.next_attempt_at == T0 + timedelta(seconds=2)  # the first firing's wait


def test_a_rolled_back_transaction_adds_no_item(store):
    engine = engine_for(STORM)
    process(store, engine, [failed(1)])
    with pytest.raises(RuntimeError), store.session() as s:
        engine.process(s, [failed(2)], T0)
        raise RuntimeError("crash before commit")
    [intent] = intents(store)
    assert subjects(intent) == ["1.sim"]


def test_group_by_values_and_recipients_split_groups(store):
    engine = engine_for("""
rules:
  - name: by-queue
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - email:
          to: "{{ job.variables.MAILTO }}"
          group_by: [rule, job.queue]
""")
    process(store, engine, [
        failed(1, queue="short", MAILTO="a@example.org"),
        failed(2, queue="long", MAILTO="a@example.org"),
        failed(3, queue="short", MAILTO="a@example.org"),
        failed(4, queue="short", MAILTO="b@example.org"),  # same group_by, other recipient
    ])
    groups = {(i.params["to"], i.params["digest"]["group"]["job.queue"]): subjects(i)
              for i in intents(store)}
    assert groups == {("a@example.org", "short"): ["1.sim", "3.sim"],
                      ("a@example.org", "long"): ["2.sim"],
                      ("b@example.org", "short"): ["4.sim"]}


def test_a_started_group_is_closed_and_the_next_waits_for_repeat_interval(store):
    engine = engine_for(STORM)
    process(store, engine, [failed(1)])
    sent_at = T0 + timedelta(seconds=5)
    run_due(store, sent_at)  # no SMTP settings: the attempt fails, but it was started
    process(store, engine, [failed(2, sent_at)], sent_at)
    first, second = intents(store)
    assert (subjects(first), first.status) == (["1.sim"], DEAD)
    assert second.key.endswith("|2") and subjects(second) == ["2.sim"]
    # A failed attempt sent nothing, so only group_wait applies.
    assert second.next_attempt_at == sent_at + timedelta(seconds=2)


def test_repeat_interval_delays_the_next_digest_of_a_group(store):
    engine = engine_for(STORM)
    process(store, engine, [failed(1), failed(2)])
    sent_at = T0 + timedelta(seconds=3)
    with SmtpSink() as sink:
        run_due(store, sent_at, sink)
        later = sent_at + timedelta(minutes=10)
        process(store, engine, [failed(3, later), failed(4, later)], later)
        run_due(store, later + timedelta(minutes=30), sink)  # not due yet
        assert len(sink.messages) == 1
        run_due(store, sent_at + timedelta(hours=1), sink)
        first, second = sink.wait_for(2)
    assert intents(store)[1].next_attempt_at == sent_at + timedelta(hours=1)
    assert "1.sim" in first.message.get_content() and "3.sim" not in first.message.get_content()
    assert "3.sim" in second.message.get_content() and "4.sim" in second.message.get_content()
    later_still = sent_at + timedelta(hours=5)  # long after: only group_wait again
    process(store, engine, [failed(5, later_still)], later_still)
    assert intents(store)[2].next_attempt_at == later_still + timedelta(seconds=2)


def test_one_digest_email_lists_every_item(store):
    process(store, engine_for(STORM), [failed(n) for n in (1, 2, 3)] + [
        Event(PBS_JOB, "4.sim", T0, "changed", job(4, state="R", exit_status=None),
              job(4, exit_status=271))])
    with SmtpSink() as sink:
        run_due(store, T0 + timedelta(seconds=2), sink)
        [got] = sink.wait_for(1)
    [intent] = intents(store)
    assert intent.status == DONE
    assert got.message["Subject"] == "[watcher] 4 jobs: rule storm"
    body = got.message.get_content()
    assert body.startswith('Rule "storm" fired for 4 jobs between 2026-01-01 12:00:00 and '
                           "2026-01-01 12:00:00 UTC.\n\n")
    assert "job 2.sim (storm-2) ended, exit 1: the job script exited with 1\n" in body
    assert "job 4.sim (storm-4) ended, exit 271: killed by signal 15 (SIGTERM)\n" in body


def test_a_group_of_one_is_the_ordinary_message(store):
    process(store, engine_for(STORM), [failed(7)])
    with SmtpSink() as sink:
        run_due(store, T0 + timedelta(seconds=2), sink)
        [got] = sink.wait_for(1)
    assert got.message["Subject"] == (
        "[watcher] storm: job 7.sim (storm-7) ended, exit 1: the job script exited with 1")


def test_an_item_template_and_overflow_beyond_max_items(store, monkeypatch):
    monkeypatch.setattr(grouping, "MAX_ITEMS", 2)
    process(store, engine_for("""
rules:
  - name: storm
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - email:
          to: ops@example.org
          group_by: ["{{ job.owner }}"]
          item: "{{ job.id }} exit {{ job.exit_status }}"
"""), [failed(n) for n in range(1, 6)])
    [intent] = intents(store)
    digest = intent.params["digest"]
    assert digest["group"] == {"{{ job.owner }}": "alice"}
    assert [i["line"] for i in digest["items"]] == ["1.sim exit 1", "2.sim exit 1"]
    assert digest["omitted"] == 3
    with SmtpSink() as sink:
        run_due(store, T0 + timedelta(seconds=30), sink)
        [got] = sink.wait_for(1)
    assert got.message["Subject"] == "[watcher] 5 jobs: rule storm ({{ job.owner }}=alice)"
    assert "... and 3 more: watcher history --rule storm\n" in got.message.get_content()


def test_a_group_by_template_error_makes_a_dead_intent_per_firing(store):
    process(store, engine_for("""
rules:
  - name: storm
    when: {pbs_job: {name: "storm-*", state: F}}
    do: [{email: {to: ops@example.org, group_by: [job.nope]}}]
"""), [failed(1)])
    [intent] = intents(store)
    assert intent.status == DEAD and intent.key == "storm|1.sim|1|0"
    assert "do[0].email.group_by[0]" in intent.last_error


def test_a_grouped_step_leaves_the_chain_and_ungrouped_params_stay_as_they_were(store):
    process(store, engine_for("""
rules:
  - name: storm
    when: {pbs_job: {name: "storm-*", state: F}}
    do:
      - qhold: {job: "{{ job.id }}"}
      - email: {to: ops@example.org, group_by: [rule]}
      - qdel: {job: "{{ job.id }}"}
      - email: {to: ops@example.org, subject: single, body: one}
"""), [failed(1)])
    by_step = {i.step: i for i in intents(store)}
    assert by_step[1].key.startswith("storm|group|") and by_step[1].after_key is None
    assert by_step[2].after_key == by_step[0].key
    assert by_step[3].after_key == by_step[2].key
    assert by_step[3].params == {"to": "ops@example.org", "subject": "single", "body": "one",
                                 "cc": [], "reply_to": None}


def test_two_instances_opening_one_group_at_once_share_it(store):
    if store.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    engine, errors = engine_for(STORM), []

    def second_instance() -> None:
        try:
            process(store, engine, [failed(2)])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    with store.session() as first:
        engine.process(first, [failed(1)], T0)
        thread = threading.Thread(target=second_instance)
        thread.start()
        _until_a_query_waits_for_a_lock(store)  # its insert of the same key waits for us
    thread.join(timeout=30)
    assert errors == []
    [intent] = intents(store)
    assert subjects(intent) == ["1.sim", "2.sim"]


def _until_a_query_waits_for_a_lock(store: Store, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with store.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                        "WHERE wait_event_type = 'Lock'")).scalar()
            conn.rollback()  # pg_stat_activity is a snapshot taken once per transaction
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second instance never waited for the first one's group")


DIGEST_TEMPLATES = """
rules:
  - name: storm
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - email:
          to: ops@example.org
          subject: "{{ job.id }} failed"
          group_by: [job.queue]
          group_wait: 2s
          item: "{{ job.id }} ({{ job.name }})"
          digest_subject: >-
            {{ digest.total }} {{ digest.noun }} failed in {{ digest.group['job.queue'] }}
          digest_body: |
            {% for line in digest.lines %}- {{ line }}
            {% endfor %}({{ rule }}, first at {{ digest.first_at.strftime('%H:%M') }})
"""


def test_a_digest_subject_and_body_are_the_rules_templates(store):
    process(store, engine_for(DIGEST_TEMPLATES), [failed(n) for n in (1, 2, 3)])
    with SmtpSink() as sink:
        run_due(store, T0 + timedelta(seconds=2), sink)
        [got] = sink.wait_for(1)
    assert got.message["Subject"] == "3 jobs failed in workq"
    assert got.message.get_content() == (
        "- 1.sim (storm-1)\n- 2.sim (storm-2)\n- 3.sim (storm-3)\n(storm, first at 12:00)\n")


def test_digest_templates_are_checked_against_the_digest_context():
    ruleset = load_rule_text(DIGEST_TEMPLATES.replace("digest.total", "digest.totl")
                             .replace("{{ rule }}", "{{ job.id }}"), "rules.yaml")
    assert [error.message for error in ruleset.errors] == [
        "'digest' has no attribute 'totl' (did you mean 'total'?)",
        "unknown template variable 'job' in a digest template (rendered once for the whole "
        "group, over rule, now and digest; put per-firing values in 'item')"]
