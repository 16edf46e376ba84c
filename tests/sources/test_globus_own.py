"""The user's own Globus tasks: one paged listing a poll, wherever the tasks were started."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import globus_sdk
import pytest

from tests.globus import _world
from tests.globus._world import Globus
from watcher.globus.clients import GlobusClients, build_clients
from watcher.sources.base import Observation
from watcher.sources.globus import GlobusSource

TASK_LIST = "GET /v0.10/task_list"
emu, globus = _world.emu, _world.globus  # the Globus world's fixtures


@pytest.fixture
def clients(globus: Globus) -> GlobusClients:
    return build_clients(globus.settings)


class Clock:
    """The source's wall clock, moved by hand (the listing's window follows it)."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


def own_source(clients: GlobusClients, ids: list[str] | None = None, **kw) -> GlobusSource:
    return GlobusSource(clients.ready_transfer, lambda: ids or [], own_tasks=True, **kw)


def poll(source: GlobusSource) -> Observation:
    return asyncio.run(source.poll())


def test_tasks_started_elsewhere_are_seen_in_one_request(globus: Globus, clients) -> None:
    ids = [globus.submit(size=10, label=f"mydata-{i}") for i in range(3)]
    globus.emu.reset_counters()
    obs = poll(own_source(clients))
    assert obs.ok and set(obs.subjects) == set(ids)
    assert globus.emu.counters()[TASK_LIST] == 1 and obs.detail["requests"] == 1
    assert obs.subjects[ids[0]]["label"] == "mydata-0"


def test_another_users_tasks_are_not_listed(globus: Globus, clients) -> None:
    bob = globus_sdk.TransferClient(authorizer=globus.emu.authorizer(
        globus.emu.issue_tokens("bob")))
    data = globus_sdk.TransferData(globus.src, globus.dst)
    (globus.src_dir / "b").write_bytes(b"b")
    data.add_item("/~/b", "/~/b")
    bob.submit_transfer(data)
    assert poll(own_source(clients)).subjects == {}


def test_an_ended_task_leaves_the_listing_after_its_window(globus: Globus, clients) -> None:
    done = globus.submit(size=10)
    globus.emu.wait_task(done, "SUCCEEDED")
    globus.emu.set_bandwidth(10)
    live = globus.submit(size=100_000)
    clock = Clock()
    source = own_source(clients, now=clock)
    assert set(poll(source).subjects) == {done, live}
    clock.at += timedelta(hours=1)
    assert set(poll(source).subjects) == {done, live}  # from a minute before the last poll
    clock.at += timedelta(hours=1)  # now the window starts 59 minutes after `done` ended
    globus.emu.reset_counters()
    obs = poll(source)
    assert set(obs.subjects) == {live} and globus.emu.counters()[TASK_LIST] == 1


def test_a_watched_task_the_listing_answered_is_not_asked_again(globus: Globus,
                                                                clients) -> None:
    globus.emu.set_bandwidth(10)
    task_id = globus.submit(size=100_000)
    globus.emu.reset_counters()
    obs = poll(own_source(clients, [task_id]))
    assert task_id in obs.subjects and obs.detail["requests"] == 1
    assert obs.detail == {**obs.detail, "watched": 1, "own": 0}


def test_a_task_last_seen_live_is_asked_by_id_when_it_ended_before_the_window(
        globus: Globus, clients) -> None:
    """After a restart: the store saw it live; it ended while the watcher was down."""
    task_id = globus.submit(size=10)
    globus.emu.wait_task(task_id, "SUCCEEDED")
    clock = Clock()
    clock.at += timedelta(hours=1)
    source = own_source(clients, now=clock, live=[task_id])
    globus.emu.reset_counters()
    obs = poll(source)
    assert obs.subjects[task_id]["status"] == "SUCCEEDED"
    assert globus.emu.counters()[TASK_LIST] == 2 and source.live == set()
    poll(source)  # seen ended: not asked again
    assert globus.emu.counters()[TASK_LIST] == 3


def test_switched_off_only_watched_tasks_are_asked(globus: Globus, clients) -> None:
    globus.submit(size=10)
    globus.emu.reset_counters()
    source = GlobusSource(clients.ready_transfer, list)
    assert poll(source).subjects == {} and TASK_LIST not in globus.emu.counters()
