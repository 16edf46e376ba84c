"""The runner executes the real PBS actions against a stand-in PBS CLI and records outcomes.

The stand-in is a shell script per command that appends its argv to `calls.log` and exits with
the code in `<command>.exit` (0 when absent). End-to-end runs with the PBS simulator belong to
the service's tests; here only the exit code matters.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.ledger._helpers import T0, add, chain, intent
from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, ActionParams, ActionType, Outcome, Services
from watcher.actions.effects import record_effect
from watcher.events import ACTION_FAILED
from watcher.ledger.failures import tell
from watcher.ledger.outbox import NewIntent, RetryPolicy, claim, enqueue, record
from watcher.ledger.runner import ActionRunner
from watcher.pbs.commands import PbsCommands
from watcher.store.db import Store
from watcher.store.models import EventRecord, Firing

_FAKE = """#!/bin/sh
name=$(basename "$0")
dir=$(dirname "$0")
echo "$name $*" >> "$dir/calls.log"
code=$(cat "$dir/$name.exit" 2>/dev/null || echo 0)
[ "$code" = 0 ] || echo "$name: failed with $code" >&2
exit "$code"
"""
POLICY = RetryPolicy(base=timedelta(seconds=2), max_attempts=4, jitter=0)
LEASE = timedelta(minutes=5)


class FakePbs:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        bin_dir.mkdir()
        for name in ("qrls", "qdel", "qhold"):
            (bin_dir / name).write_text(_FAKE)
            (bin_dir / name).chmod(0o755)

    def exits(self, command: str, code: int) -> None:
        (self.bin_dir / f"{command}.exit").write_text(str(code))

    def calls(self) -> list[str]:
        log = self.bin_dir / "calls.log"
        return log.read_text().splitlines() if log.exists() else []


@dataclass
class Clock:
    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@pytest.fixture
def pbs(tmp_path: Path) -> FakePbs:
    return FakePbs(tmp_path / "bin")


def _runner(store: Store, pbs: FakePbs, clock: Clock, **kw: Any) -> ActionRunner:
    return ActionRunner(store, PbsCommands(pbs.bin_dir, timeout=10), "w1", clock, POLICY,
                        lease=LEASE, **kw)


def _run(runner: ActionRunner) -> list[tuple[str, str]]:
    return [(r.key, r.status) for r in asyncio.run(runner.run_due())]


def test_qdel_of_a_finished_job_is_done(store: Store, pbs: FakePbs) -> None:
    pbs.exits("qdel", 35)
    add(store, NewIntent("k", "r", "qdel", {"job": "12.srv"}))
    assert _run(_runner(store, pbs, Clock())) == [("k", "done")]
    assert pbs.calls() == ["qdel 12.srv"]
    assert "exit 35" in intent(store, "k").result["detail"]


def test_qrls_of_an_unknown_job_is_dead_and_not_retried(store: Store, pbs: FakePbs) -> None:
    pbs.exits("qrls", 153)
    with store.session() as session:  # as the engine does: event, firing, intents together
        event = EventRecord(kind="pbs_job", subject="12.srv", change="changed", at=T0)
        session.add(event)
        session.flush()
        firing = Firing(rule="release", subject="12.srv", event_id=event.id, at=T0)
        session.add(firing)
        session.flush()
        enqueue(session, [NewIntent("k", "release", "qrls", {"job": "12.srv"},
                                    firing_id=firing.id)], now=T0)
    clock = Clock()
    runner = _runner(store, pbs, clock)
    [report] = asyncio.run(runner.run_due())
    assert (report.status, report.dead, report.attempts) == ("dead", True, 1)
    clock.advance(hours=1)
    assert _run(runner) == []
    assert pbs.calls() == ["qrls -h u 12.srv"]
    with store.session() as session:
        [event] = tell(session, clock())
    assert (event.kind, event.subject) == (ACTION_FAILED, "12.srv")
    assert event.data["rule"] == "release" and event.data["action"] == "qrls"
    assert "exit 153" in event.data["error"]


def test_an_unreachable_server_is_retried_until_it_answers(store: Store, pbs: FakePbs) -> None:
    pbs.exits("qrls", 255)
    add(store, NewIntent("k", "r", "qrls", {"job": "12.srv", "hold": "s"}))
    clock = Clock()
    runner = _runner(store, pbs, clock)
    [report] = asyncio.run(runner.run_due())
    assert (report.status, report.next_attempt_at) == ("pending", T0 + timedelta(seconds=2))
    clock.advance(seconds=1)
    assert _run(runner) == []
    clock.advance(seconds=1)
    pbs.exits("qrls", 0)
    assert _run(runner) == [("k", "done")]
    assert pbs.calls() == ["qrls -h s 12.srv"] * 2
    assert intent(store, "k").attempts == 2


def test_invalid_params_and_unknown_actions_are_dead_without_running(
    store: Store, pbs: FakePbs
) -> None:
    add(store, NewIntent("bad", "r", "qrls", {"jobb": "12.srv"}),
        NewIntent("unknown", "r", "qrel", {"job": "12.srv"}))
    assert sorted(_run(_runner(store, pbs, Clock()))) == [("bad", "dead"), ("unknown", "dead")]
    assert pbs.calls() == []
    assert intent(store, "bad").last_error.startswith("invalid parameters: job: Field required")
    assert intent(store, "unknown").last_error == "unknown action type 'qrel'"


def test_steps_of_a_firing_run_in_order(store: Store, pbs: FakePbs) -> None:
    add(store, *chain("f", "qrls", "qdel"))
    runner = _runner(store, pbs, Clock())
    # The second step becomes due once the first is done, within the same run.
    assert _run(runner) == [("f/0", "done"), ("f/1", "done")]
    assert pbs.calls() == ["qrls -h u 1.srv", "qdel 1.srv"]


def test_no_more_is_claimed_than_can_start(store: Store, pbs: FakePbs) -> None:
    """A lease starts at the claim: intents waiting for a slot must not be leased yet."""
    add(store, *(NewIntent(f"k{i}", "r", "qdel", {"job": f"{i}.srv"}) for i in range(5)))
    runner = _runner(store, pbs, Clock(), concurrency=2)
    seen: list[int] = []
    original = runner._run_batch

    async def spy(limit: int) -> list:
        seen.append(limit)
        return await original(limit)

    runner._run_batch = spy  # type: ignore[method-assign]
    assert len(_run(runner)) == 5
    assert max(seen) == 2


def test_an_intent_left_running_by_a_dead_worker_runs_again_once(
    store: Store, pbs: FakePbs
) -> None:
    add(store, NewIntent("k", "r", "qdel", {"job": "12.srv"}))
    [orphan] = claim(store, owner="dead-worker", now=T0, lease=LEASE, limit=10)
    clock = Clock(T0 + timedelta(seconds=30))
    runner = _runner(store, pbs, clock)
    assert _run(runner) == []  # its lease still holds
    clock.at = T0 + LEASE + timedelta(seconds=1)
    assert _run(runner) == [("k", "done")]
    assert _run(runner) == []
    assert pbs.calls() == ["qdel 12.srv"]
    late = record(store, orphan.id, Outcome.done(), owner="dead-worker", now=clock(),
                  policy=POLICY)
    assert late is None
    assert intent(store, "k").attempts == 2


class _Probe(ActionParams):
    job: str


def test_actions_get_the_key_rule_and_services_and_exceptions_are_retried(
    store: Store, pbs: FakePbs, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[ActionContext] = []

    async def explode(ctx: ActionContext, params: _Probe) -> Outcome:
        seen.append(ctx)
        raise ConnectionError(f"smtp down for {params.job}")

    actions = {**ACTIONS, "probe": ActionType("probe", _Probe, explode, "test")}
    add(store, NewIntent("k", "mail-me", "probe", {"job": "12.srv"}, step=3))
    runner = _runner(store, pbs, Clock(), actions=actions, services=Services(store=store))
    with caplog.at_level(logging.WARNING, logger="watcher.ledger.runner"):
        assert _run(runner) == [("k", "pending")]
    assert (seen[0].idempotency_key, seen[0].rule, seen[0].now) == ("k", "mail-me", T0)
    assert seen[0].services == Services(store=store)
    assert intent(store, "k").last_error == "ConnectionError: smtp down for 12.srv"
    assert "Rule 'mail-me' step 3 (probe) failed (attempt 1)" in caplog.text


def test_a_journaled_effect_is_not_repeated_after_a_crash(store: Store, pbs: FakePbs) -> None:
    """The action journaled its effect, then the worker died before recording the outcome."""
    calls: list[str] = []

    class _Params(ActionParams):
        what: str

    async def _once(ctx: ActionContext, params: _Params) -> Outcome:
        calls.append(params.what)
        await record_effect(ctx, f"did {params.what}", token="t-1")
        raise RuntimeError("killed right after the effect")  # the outcome is never recorded

    actions = {"once": ActionType("once", _Params, _once, "test")}
    add(store, NewIntent("k", "r", "once", {"what": "mail"}))
    clock = Clock()
    runner = ActionRunner(store, PbsCommands(pbs.bin_dir), "w1", clock, POLICY,
                          Services(store=store), lease=LEASE, actions=actions)
    assert _run(runner) == [("k", "pending")]  # the exception looked like a passing fault
    clock.advance(seconds=5)
    assert _run(runner) == [("k", "done")]
    assert calls == ["mail"]
    assert intent(store, "k").result["facts"] == {"token": "t-1"}
    assert "already done before a restart: did mail" in intent(store, "k").result["detail"]
