"""The `transfer` action with the real globus-sdk against the Globus emulator on 127.0.0.1:
files arrive, and one intent makes one task whatever crashes, retries and flaky answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import globus_sdk
import pytest
from pydantic import ValidationError

from tests.globus import _world
from tests.globus._world import Globus
from watcher.actions.base import ActionContext, Outcome, Services
from watcher.actions.transfer import Params, execute, label_for, transfer_data
from watcher.globus.clients import build_clients
from watcher.globus.consents import missing_consents
from watcher.globus.submit import fact_key
from watcher.pbs.commands import PbsCommands
from watcher.sim.globus.testing import GlobusEmulator
from watcher.store.db import Store, open_store
from watcher.store.facts import get_fact, put_fact
from watcher.store.watch import watched

KEY = "stage-out|12.srv|7|0"
RULE = "stage-out"
POST = "POST /v0.10/transfer"
emu, globus = _world.emu, _world.globus  # the Globus world's fixtures (its own tokens)


@dataclass
class World:
    emu: GlobusEmulator
    tc: globus_sdk.TransferClient
    store: Store
    src: str
    dst: str
    src_dir: Path
    dst_dir: Path

    def ctx(self, *, key: str = KEY) -> ActionContext:
        return ActionContext(PbsCommands(), key, RULE, datetime.now(UTC),
                             Services(store=self.store, transfer=self.tc))

    def params(self, **changes: Any) -> Params:
        raw = {"source_endpoint": self.src, "destination_endpoint": self.dst,
               "items": [{"source": "/run/out.dat", "destination": "/archive/out.dat"},
                         {"source": "/run/logs", "destination": "/archive/logs",
                          "recursive": True}]}
        return Params.model_validate({**raw, **changes})

    def run(self, params: Params | None = None, ctx: ActionContext | None = None) -> Outcome:
        return asyncio.run(execute(ctx or self.ctx(), params or self.params()))

    def fact(self, key: str = KEY) -> dict[str, Any] | None:
        with self.store.session(write=False) as session:
            return get_fact(session, fact_key(key))


def _client(running: GlobusEmulator, tokens: dict[str, Any]) -> globus_sdk.TransferClient:
    tc = globus_sdk.TransferClient(authorizer=running.authorizer(tokens),
                                   base_url=running.transfer_url)
    tc.retry_config.backoff = lambda ctx: 0.0  # the SDK's retries, without its sleeps
    return tc


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    (src_dir / "run" / "logs" / "deep").mkdir(parents=True)
    (src_dir / "run" / "out.dat").write_bytes(b"x" * 10_000)
    (src_dir / "run" / "logs" / "a.log").write_text("first\n")
    (src_dir / "run" / "logs" / "deep" / "b.log").write_text("second\n")
    dst_dir.mkdir()
    store = open_store(f"sqlite:///{tmp_path / 'watcher.db'}")
    with GlobusEmulator(tmp_path / "globus") as running:
        src, dst = running.add_endpoint(src_dir), running.add_endpoint(dst_dir)
        yield World(running, _client(running, running.issue_tokens("alice")), store, src, dst,
                    src_dir, dst_dir)
    store.close()


def test_files_arrive_and_the_task_is_recorded_and_watched(world: World) -> None:
    outcome = world.run()
    assert outcome.ok, outcome.detail
    task_id = outcome.facts["task_id"]
    doc = world.emu.wait_task(task_id, "SUCCEEDED")
    assert (world.dst_dir / "archive" / "out.dat").read_bytes() == b"x" * 10_000
    assert (world.dst_dir / "archive" / "logs" / "deep" / "b.log").read_text() == "second\n"
    assert doc["label"] == f"watcher {RULE}" and doc["verify_checksum"] is True
    assert world.fact() == {"submission_id": outcome.facts["submission_id"], "task_id": task_id}
    with world.store.session(write=False) as session:
        assert watched(session, "globus")[task_id] == {
            "source": "globus", "subject": task_id, "key": KEY, "rule": RULE}
    assert outcome.detail.startswith(f"Globus task {task_id}: 2 item(s) from ")


def test_run_twice_after_a_crash_before_the_ledger_recorded_makes_one_task(world: World) -> None:
    first, second = world.run(), world.run()
    assert first.ok and second.ok
    assert second.facts == first.facts
    assert "submitted by an earlier attempt" in second.detail
    assert len(world.emu.tasks()) == 1 and world.emu.counters()[POST] == 1


def test_crash_after_the_post_before_its_answer_was_stored_gets_the_same_task(
        world: World) -> None:
    # The earlier attempt stored its submission id and its POST reached Globus; then it died.
    submission_id = world.tc.get_submission_id()["value"]
    with world.store.session() as session:
        put_fact(session, fact_key(KEY), {"submission_id": submission_id})
    earlier = world.tc.submit_transfer(transfer_data(world.params(), world.ctx(), submission_id))
    outcome = world.run()
    assert outcome.ok and outcome.facts["task_id"] == earlier["task_id"]
    assert "Globus already had this submission" in outcome.detail
    # Globus saw the id twice and kept one task: the emulator's dedupe, as Transfer's.
    assert world.emu.counters()[POST] == 2 and len(world.emu.tasks()) == 1
    assert world.emu.transfers.submissions == {submission_id: earlier["task_id"]}


def test_crash_between_storing_the_id_and_submitting_reuses_the_stored_id(world: World) -> None:
    submission_id = world.tc.get_submission_id()["value"]
    with world.store.session() as session:
        put_fact(session, fact_key(KEY), {"submission_id": submission_id})
    outcome = world.run()
    assert outcome.ok and outcome.facts["submission_id"] == submission_id
    assert world.emu.transfers.submissions == {submission_id: outcome.facts["task_id"]}
    assert world.emu.counters().get("GET /v0.10/submission_id") == 1  # ours, above


@pytest.mark.parametrize("status", [429, 503])
def test_a_flaky_service_still_gives_one_task(world: World, status: int) -> None:
    world.emu.flaky(status=status, share=0.5)  # the POST fails once; the SDK sends it again
    outcomes = [world.run() for _ in range(3)]
    assert all(o.ok for o in outcomes) and len({o.facts["task_id"] for o in outcomes}) == 1
    counters = world.emu.counters()
    assert counters[f"injected {status}"] == 1 and counters[POST] == 2
    assert len(world.emu.tasks()) == 1


def test_thirty_percent_errors_over_many_intents_still_one_task_each(world: World) -> None:
    world.emu.flaky(status=503, share=0.3)
    keys = [f"stage-out|{n}.srv|{n}|0" for n in range(8)]
    outcomes = {key: [world.run(ctx=world.ctx(key=key)) for _ in range(2)] for key in keys}
    assert all(o.ok for runs in outcomes.values() for o in runs)
    assert all(runs[0].facts == runs[1].facts for runs in outcomes.values())
    assert len(world.emu.tasks()) == len(keys) and world.emu.counters()["injected 503"] >= 4


def test_when_retries_run_out_the_outcome_is_retryable_and_the_next_attempt_submits_once(
        world: World) -> None:
    world.emu.flaky(status=503, share=1.0)
    failed = world.run()
    assert not failed.ok and failed.retryable and "HTTP 503" in failed.detail
    assert world.fact() is None  # not even a submission id was obtained
    world.emu.reset_faults()
    assert world.run().ok and world.run().ok
    assert len(world.emu.tasks()) == 1


def test_a_failing_post_keeps_the_stored_id_for_the_next_attempt(world: World) -> None:
    submission_id = world.tc.get_submission_id()["value"]
    with world.store.session() as session:
        put_fact(session, fact_key(KEY), {"submission_id": submission_id})
    world.emu.flaky(status=502, share=1.0, count=6)  # every try of one POST (1 + 5 retries)
    failed = world.run()
    assert not failed.ok and failed.retryable and "HTTP 502" in failed.detail
    assert world.fact() == {"submission_id": submission_id}
    assert world.run().facts["submission_id"] == submission_id
    assert len(world.emu.tasks()) == 1


def test_missing_consent_is_permanent_and_names_the_scopes(world: World) -> None:
    world.emu.expire_credentials("alice", world.dst)
    outcome = world.run()
    assert not outcome.ok and not outcome.retryable
    assert "ConsentRequired" in outcome.detail
    assert f"run `watcher login --collection {world.dst}`" in outcome.detail
    assert f"https://auth.globus.org/scopes/{world.dst}/data_access" in outcome.detail
    assert world.emu.tasks() == []
    with world.store.session(write=False) as session:  # `watcher status` will list it
        assert missing_consents(session) == [world.dst]


def test_a_dead_login_is_permanent(world: World) -> None:
    world.emu.revoke_refresh_tokens("alice")
    world.emu.expire_access_tokens("alice")
    outcome = world.run()
    assert not outcome.ok and not outcome.retryable
    assert "invalid_grant" in outcome.detail and "watcher login" in outcome.detail


def test_with_the_services_own_client_expired_credentials_are_permanent(
        globus: Globus, tmp_path: Path) -> None:
    """The service's TransferClient raises `CredentialsExpired` once its refresh token died."""
    globus.log_in()
    clients = build_clients(globus.settings)
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    ctx = ActionContext(PbsCommands(), KEY, RULE, datetime.now(UTC),
                        Services(store=store, transfer=clients.transfer))
    params = Params(source_endpoint=globus.src, destination_endpoint=globus.dst,
                    source_path="/~/", destination_path="/~/copy/", recursive=True)
    try:
        assert asyncio.run(execute(ctx, params)).ok
        globus.emu.revoke_refresh_tokens("alice")
        globus.emu.expire_access_tokens("alice")
        outcome = asyncio.run(execute(replace(ctx, idempotency_key=KEY + "-next"), params))
    finally:
        store.close()
    assert not outcome.ok and not outcome.retryable
    assert "Globus login expired" in outcome.detail and "watcher login" in outcome.detail


def test_an_unknown_endpoint_is_permanent(world: World) -> None:
    outcome = world.run(world.params(destination_endpoint="5b7c7a1e-0000-4000-8000-000000000000"))
    assert not outcome.ok and not outcome.retryable
    assert "HTTP 404: EndpointNotFound" in outcome.detail


def test_an_unreachable_service_is_retryable(world: World) -> None:
    world.emu.__exit__(None, None, None)  # stop serving; the fixture's exit is then a no-op
    outcome = world.run()
    assert not outcome.ok and outcome.retryable and "cannot reach Globus" in outcome.detail


def test_without_a_client_it_fails_for_good(world: World) -> None:
    outcome = world.run(ctx=ActionContext(PbsCommands(), KEY, RULE, datetime.now(UTC)))
    assert not outcome.ok and not outcome.retryable and "no Globus client" in outcome.detail


def test_without_a_store_it_submits_and_says_exactly_once_is_not_guaranteed(
        world: World) -> None:
    ctx = ActionContext(PbsCommands(), KEY, RULE, datetime.now(UTC),
                        Services(transfer=world.tc))
    outcome = world.run(ctx=ctx)
    assert outcome.ok and "exactly-once is not guaranteed" in outcome.detail
    world.run(ctx=ctx)
    assert len(world.emu.tasks()) == 2  # what the store is for


def test_options_reach_globus(world: World) -> None:
    ctx = world.ctx()
    outcome = world.run(world.params(sync_level="size", deadline="12h", verify_checksum=False,
                                     label="  nightly\nrun  ", notify_on_failed=True), ctx)
    doc = world.emu.task(outcome.facts["task_id"])
    assert (doc["sync_level"], doc["verify_checksum"], doc["label"]) == (1, False, "nightly run")
    deadline = datetime.fromisoformat(doc["deadline"].replace(" ", "T"))
    deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
    assert abs(deadline - (ctx.now + timedelta(hours=12))) < timedelta(seconds=5)


def test_the_shorthand_and_recursive_default(world: World) -> None:
    params = world.params(items=[], source_path="/run/logs", destination_path="/copy",
                          recursive=True)
    assert params.pairs() == [("/run/logs", "/copy", True)]
    outcome = world.run(params)
    world.emu.wait_task(outcome.facts["task_id"], "SUCCEEDED")
    assert (world.dst_dir / "copy" / "deep" / "b.log").exists()


@pytest.mark.parametrize(("changes", "message"), [
    ({"source_path": "/a", "destination_path": "/b"}, "at most one of 'items'"),
    ({"items": [], "source_path": "/a"}, "both 'source_path' and 'destination_path'"),
    ({"deadline": "soonish"}, "expected a duration like '12h' or an ISO time"),
    ({"sync_level": "fast"}, "'exists', 'size', 'mtime' or 'checksum'"),
    ({"items": [{"source": "/a"}]}, "destination"),
])
def test_bad_params_are_rejected(world: World, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        world.params(**changes)


def test_labels_fit_what_transfer_accepts(world: World) -> None:
    ctx = world.ctx()
    assert label_for(world.params(label="x" * 300), ctx) == "x" * 128
    assert label_for(world.params(label="   "), ctx) == f"watcher {RULE}"
    assert label_for(world.params(), ctx) == f"watcher {RULE}"  # the unrendered default
