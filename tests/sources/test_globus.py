"""`GlobusSource` and `GlobusEndpointSource` with the real SDK against the Globus emulator."""

from __future__ import annotations

import asyncio
import math
import socket
import time

import globus_sdk
import pytest

from tests.globus import _world
from tests.globus._world import USER, Globus
from watcher.events import CREDENTIALS_EXPIRED, GLOBUS_TASK
from watcher.globus.clients import GlobusClients, build_clients
from watcher.globus.endpoints import consent_attributes, is_consent_required
from watcher.sources.base import Observation
from watcher.sources.credentials import credentials_edge
from watcher.sources.globus import GlobusEndpointSource, GlobusSource
from watcher.state.diff import PrevEntry, diff_observation

TASK_LIST = "GET /v0.10/task_list"
emu, globus = _world.emu, _world.globus  # the Globus world's fixtures


def poll(source: GlobusSource | GlobusEndpointSource) -> Observation:
    return asyncio.run(source.poll())


def task_source(clients: GlobusClients, ids: list[str], **kw) -> GlobusSource:
    return GlobusSource(clients.ready_transfer, lambda: ids, **kw)


@pytest.fixture
def clients(globus: Globus) -> GlobusClients:
    return build_clients(globus.settings)


def test_a_poll_reads_every_watched_task_in_chunks(globus: Globus, clients) -> None:
    ids = [globus.submit(size=10, label=f"t{i}") for i in range(100)]
    globus.emu.reset_counters()
    source = task_source(clients, ids, chunk=30)
    for _ in range(2):
        obs = poll(source)
        assert obs.ok and set(obs.subjects) == set(ids)
    counts = globus.emu.counters()
    assert counts[TASK_LIST] == 2 * math.ceil(100 / 30)
    assert not any("/task/" in route for route in counts)  # never one get_task per task
    assert obs.detail["requests"] == 4 and obs.detail["watched"] == 100


def test_attributes_of_a_task(globus: Globus, clients) -> None:
    task_id = globus.submit(size=5, label="stage-in")
    globus.emu.wait_task(task_id, "SUCCEEDED")
    attrs = poll(task_source(clients, [task_id])).subjects[task_id]
    assert attrs["status"] == "SUCCEEDED" and attrs["label"] == "stage-in"
    assert attrs["bytes_transferred"] == 5 and attrs["files_transferred"] == 1
    assert attrs["source_endpoint_id"] == globus.src
    assert attrs["destination_endpoint_id"] == globus.dst
    assert attrs["is_paused"] is False and attrs["fatal_error"] is None
    assert attrs["request_time"] and attrs["completion_time"] and attrs["deadline"]


def test_a_failed_task_carries_its_fatal_error(globus: Globus, clients) -> None:
    globus.emu.set_bandwidth(10)
    task_id = globus.submit(size=1000)
    globus.emu.fail_task(task_id, "PERMISSION_DENIED", "no")
    attrs = poll(task_source(clients, [task_id])).subjects[task_id]
    assert attrs["status"] == "FAILED"
    assert attrs["fatal_error"] == {"code": "PERMISSION_DENIED", "description": "no"}


def test_moving_bytes_are_stored_but_make_no_event(globus: Globus, clients) -> None:
    globus.emu.set_bandwidth(2000)
    task_id = globus.submit(size=100_000)
    source = task_source(clients, [task_id])
    first = poll(source)
    globus.emu.wait_task(task_id, "ACTIVE")
    moved = first.subjects[task_id]["bytes_transferred"]
    for _ in range(200):
        second = poll(source)
        if second.subjects[task_id]["bytes_transferred"] != moved:
            break
        time.sleep(0.02)
    assert second.subjects[task_id]["bytes_transferred"] != moved
    previous = {task_id: PrevEntry(first.subjects[task_id])}
    result = diff_observation(previous, second, kind=GLOBUS_TASK)
    changed = [e.data["changed"] for e in result.events]
    assert task_id in result.upserts and all("bytes_transferred" not in c for c in changed)


def test_unknown_and_foreign_tasks_are_absent_and_nothing_watched_asks_nothing(
        globus: Globus, clients) -> None:
    bob = globus_sdk.TransferClient(authorizer=globus.emu.authorizer(
        globus.emu.issue_tokens("bob")))
    data = globus_sdk.TransferData(globus.src, globus.dst)
    (globus.src_dir / "b").write_bytes(b"b")
    data.add_item("/~/b", "/~/b")
    bobs = str(bob.submit_transfer(data)["task_id"])
    obs = poll(task_source(clients, [bobs, "00000000-0000-4000-8000-00000000dead"]))
    assert obs.ok and obs.subjects == {}
    globus.emu.reset_counters()
    assert poll(task_source(clients, [])).ok and TASK_LIST not in globus.emu.counters()


def test_503_is_unknown_and_the_next_poll_waits_longer(globus: Globus, clients) -> None:
    task_id = globus.submit()
    now = [0.0]
    source = task_source(clients, [task_id], interval=10, backoff_max=100,
                         clock=lambda: now[0])
    globus.emu.flaky(503, share=1.0)
    obs = poll(source)
    assert not obs.ok and obs.subjects == {} and "503" in (obs.error or "")
    assert obs.detail["transient"] and obs.detail["next_poll_in"] == 20
    assert not source.due()
    now[0] = 20.0
    assert source.due()
    assert not poll(source).ok
    now[0] = 59.0
    assert not source.due()  # 40 s after the second failure
    globus.emu.reset_faults()
    now[0] = 60.0
    assert source.due() and poll(source).ok and source.pacer.delay() == 10


def test_thirty_percent_429s_never_fail_a_poll(globus: Globus, clients) -> None:
    ids = [globus.submit() for _ in range(5)]
    globus.emu.flaky(429, share=0.3)
    results = [poll(task_source(clients, ids, chunk=2)) for _ in range(10)]
    assert all(obs.ok and set(obs.subjects) == set(ids) for obs in results)
    assert globus.emu.counters()["injected 429"] >= 5


def test_dead_credentials_pause_the_source_until_new_tokens(globus: Globus, clients) -> None:
    task_id = globus.submit()
    source = task_source(clients, [task_id])
    assert poll(source).detail["credentials"] == "ok"
    globus.emu.revoke_refresh_tokens(USER)
    globus.emu.expire_access_tokens(USER)
    obs = poll(source)
    assert not obs.ok and obs.detail["credentials"] == "expired" and source.paused
    expired, events, consumed = credentials_edge(False, obs)
    assert expired and consumed and [e.kind for e in events] == [CREDENTIALS_EXPIRED]
    globus.emu.reset_counters()
    assert [source.due() for _ in range(5)] == [False] * 5
    assert globus.emu.counters() == {}  # paused: not one request
    globus.log_in()
    assert source.due() and not source.paused
    again = poll(source)
    assert again.ok and again.detail["credentials"] == "ok" and task_id in again.subjects


def test_endpoint_probe_sees_inactive_and_missing_endpoints(globus: Globus, clients) -> None:
    gone = "00000000-0000-4000-8000-0000000000aa"
    ids = {globus.src, globus.dst, gone}
    source = GlobusEndpointSource(clients.ready_transfer, lambda: ids)
    obs = poll(source)
    assert obs.ok and obs.missing_ok == {gone}
    assert obs.subjects[globus.src] == {
        "id": globus.src, "display_name": "source", "entity_type": "GCSv5_mapped_collection",
        "inactive": False, "consent_required": False, "required_scopes": [],
        "login_command": None, "high_assurance": False, "authentication_timeout_mins": None}
    globus.emu.expire_credentials(USER, globus.dst)
    later = poll(source)
    assert later.subjects[globus.dst]["inactive"] is True
    assert later.subjects[globus.dst]["consent_required"] is True
    assert later.subjects[globus.dst]["login_command"] == (
        f"watcher login --collection {globus.dst}")
    assert later.subjects[globus.src]["inactive"] is False
    ids.clear()  # no longer asked for: still probed, not "gone"
    assert set(poll(source).subjects) == {globus.src, globus.dst}


def test_a_consent_required_answer_becomes_attributes(globus: Globus) -> None:
    globus.emu.expire_credentials(USER, globus.dst)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        globus.submitter.operation_ls(globus.dst, path="/~/")
    assert is_consent_required(caught.value)
    attrs = consent_attributes(globus.dst, caught.value)
    assert attrs["consent_required"] is True and attrs["inactive"] is None
    assert globus.dst in attrs["required_scopes"][0]


def test_the_task_source_collects_endpoints_for_the_probe(globus: Globus, clients) -> None:
    source = task_source(clients, [globus.submit()])
    poll(source)
    assert source.endpoints == {globus.src, globus.dst}


def test_a_transfer_service_that_never_answers_is_unknown(
        globus: Globus, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never replies
        port = silent.getsockname()[1]
        monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_TRANSFER", f"http://127.0.0.1:{port}/")
        settings = globus.settings.model_copy(update={"request_timeout": 0.2,
                                                      "max_retries": 1})
        obs = poll(task_source(build_clients(settings), [globus.submit()]))
    assert not obs.ok and obs.subjects == {} and obs.detail["transient"]
    assert "Timeout" in (obs.error or "")
