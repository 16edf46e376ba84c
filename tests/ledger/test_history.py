"""History: events in a few words, and firings with their actions, newest last."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ledger._helpers import LEASE, T0, fire
from watcher.actions.base import Outcome
from watcher.ledger.history import load_history, summarize
from watcher.ledger.outbox import RetryPolicy, claim, record
from watcher.store.db import Store


@pytest.mark.parametrize(
    ("kind", "change", "previous", "current", "text"),
    [
        ("pbs_job", "changed", {"state": "Q"}, {"state": "R"}, "12.sim Q→R"),
        ("pbs_job", "changed", {"state": "R", "exit_status": None},
         {"state": "F", "exit_status": -29}, "12.sim R→F (exit -29)"),
        ("pbs_job", "changed", {"state": "R", "substate": 42}, {"state": "R", "substate": 54},
         "12.sim substate 42→54"),
        ("pbs_job", "appeared", None, {"state": "H"}, "12.sim appeared (H)"),
        ("pbs_job", "vanished", {"state": "R"}, None, "12.sim vanished"),
        ("pbs_job", "changed", {"state": "R", "comment": "a"}, {"state": "R", "comment": "b"},
         "12.sim changed"),
        ("globus_task", "changed", {"status": "ACTIVE"}, {"status": "SUCCEEDED"},
         "12.sim ACTIVE→SUCCEEDED"),
        ("quota", "changed", {"used_percent": 89}, {"used_percent": 91},
         "12.sim used_percent 89→91"),
        ("source_down", "changed", None, None, "source_down 12.sim"),
    ],
)
def test_summarize(kind: str, change: str, previous: dict | None, current: dict | None,
                   text: str) -> None:
    assert summarize(kind, "12.sim", change, previous, current) == text


def test_firings_come_newest_last_with_their_actions(store: Store) -> None:
    fire(store, "release", "12.sim", T0, actions=("qrls", "qdel"),
         previous={"state": "Q"}, current={"state": "R"})
    fire(store, "release", "13.sim", T0 + timedelta(minutes=1), actions=("qrls",))
    fire(store, "cleanup", "12.sim", T0 + timedelta(minutes=2), actions=())
    [first] = claim(store, owner="w", now=T0, lease=LEASE, limit=1)
    record(store, first.id, Outcome.failed("no server", retryable=True), owner="w", now=T0,
           policy=RetryPolicy(jitter=0))

    lines = load_history(store)
    assert [(f.rule, f.subject) for f in lines] == [
        ("release", "12.sim"), ("release", "13.sim"), ("cleanup", "12.sim")]
    oldest = lines[0]
    assert (oldest.event, oldest.reason, oldest.at) == ("12.sim Q→R", "entered condition", T0)
    assert [(a.step, a.action, a.status) for a in oldest.actions] == [
        (0, "qrls", "pending"), (1, "qdel", "pending")]
    assert oldest.actions[0].last_error == "no server"
    assert oldest.actions[0].next_attempt_at == T0 + timedelta(seconds=2)
    assert oldest.actions[1].next_attempt_at == T0
    assert lines[2].actions == []


def test_filters_and_limit(store: Store) -> None:
    for n in range(4):
        fire(store, "release", f"{n}.sim", T0 + timedelta(minutes=n), actions=("qrls",))
    fire(store, "other", "1.sim", T0 + timedelta(minutes=9), actions=("qdel",))
    assert [f.subject for f in load_history(store, limit=2)] == ["3.sim", "1.sim"]
    assert [f.subject for f in load_history(store, rule="release", limit=2)] == ["2.sim", "3.sim"]
    assert [f.rule for f in load_history(store, subject="1.sim")] == ["release", "other"]
    assert load_history(store, rule="nope") == []
