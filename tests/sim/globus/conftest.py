"""A fresh in-process emulator per test (they start in milliseconds), two endpoints, tokens
for alice and an SDK TransferClient that retries without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import globus_sdk
import pytest

from watcher.sim.globus.testing import GlobusEmulator


@dataclass
class World:
    emu: GlobusEmulator
    src: str
    dst: str
    src_dir: Path
    dst_dir: Path
    tokens: dict
    tc: globus_sdk.TransferClient


def fast_retries(client: globus_sdk.BaseClient) -> None:
    """Retry as the SDK does, minus the sleeping, so 429/503 tests stay fast."""
    client.retry_config.backoff = lambda ctx: 0.0


def transfer_client(emu: GlobusEmulator, tokens: dict) -> globus_sdk.TransferClient:
    tc = globus_sdk.TransferClient(authorizer=emu.authorizer(tokens), base_url=emu.transfer_url)
    fast_retries(tc)
    return tc


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[GlobusEmulator]:
    with GlobusEmulator(tmp_path / "home") as running:
        yield running


@pytest.fixture
def world(emu: GlobusEmulator, tmp_path: Path) -> World:
    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    src = emu.add_endpoint(src_dir)
    dst = emu.add_endpoint(dst_dir)
    tokens = emu.issue_tokens("alice")
    return World(emu, src, dst, src_dir, dst_dir, tokens, transfer_client(emu, tokens))


def submit(world: World, items: list[tuple[str, str]], **options: object) -> str:
    data = globus_sdk.TransferData(world.src, world.dst, **options)  # type: ignore[arg-type]
    for src, dst in items:
        data.add_item(src, dst)
    return str(world.tc.submit_transfer(data)["task_id"])


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `check` every 10 ms until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)
