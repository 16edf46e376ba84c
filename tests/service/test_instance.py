"""Which other instances are gone, judged from the store and this host's processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from watcher.service.instance import Presence
from watcher.store.db import Store
from watcher.store.models import Instance

HOST = socket.gethostname()
LEASE = timedelta(seconds=30)


def presence(store: Store, *, exclusive: bool = False) -> Presence:
    return Presence(store, f"{HOST}:{os.getpid()}:me", LEASE, lambda: datetime.now(UTC),
                    exclusive=exclusive)


@pytest.fixture
def leader_with_child() -> Iterator[subprocess.Popen[bytes]]:
    """A group leader that started a child and died: the child (a `qsub` in flight) lives on
    in the dead leader's process group until it is told to end."""
    proc = subprocess.Popen([sys.executable, "-c",
                             "import subprocess; subprocess.Popen(['sleep', '30'])"],
                            start_new_session=True)
    proc.wait()
    yield proc
    os.killpg(proc.pid, 9)


def test_a_process_that_ended_is_gone_and_a_running_one_is_not(store: Store) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        judge = presence(store)
        assert judge.gone(f"{HOST}:{ended.pid}:x")
        assert not judge.gone(f"{HOST}:{running.pid}:x")
    finally:
        running.kill()
        running.wait()


def test_a_killed_watcher_is_gone_only_after_its_children(
        store: Store, leader_with_child: subprocess.Popen[bytes]) -> None:
    judge = presence(store, exclusive=True)
    owner = f"{HOST}:{leader_with_child.pid}:x"
    assert not judge.gone(owner)
    os.killpg(leader_with_child.pid, 9)
    deadline = time.monotonic() + 10
    while not judge.gone(owner):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_another_hosts_instance_is_gone_under_the_file_lock_or_when_silent(
        store: Store) -> None:
    owner = "elsewhere:123:x"
    assert presence(store, exclusive=True).gone(owner)
    shared = presence(store)
    assert not shared.gone(owner)  # it may well be alive: its leases will tell
    old = datetime.now(UTC) - LEASE - timedelta(seconds=1)
    with store.session() as session:
        session.add(Instance(owner=owner, host="elsewhere", pid=123, pgid=123,
                             started_at=old, heartbeat_at=old))
    shared.take_over()  # reads the instances; the silent one is gone and its row removed
    with store.session(write=False) as session:
        assert session.get(Instance, owner) is None
