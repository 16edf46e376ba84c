"""Globus test world: an emulator per test, the SDK pointed at it, alice's tokens in a file.

The watcher's tokens and the tokens the test submits transfers with are two separate login
chains for the same user, as a user's laptop and their watcher would be: both see the same
tasks, and refreshing one never rotates the other's refresh token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import globus_sdk
import pytest
from globus_sdk.token_storage import TokenStorageData

from watcher.config import GlobusSettings
from watcher.globus.tokens import TRANSFER_RS, TokenFile
from watcher.sim.globus.testing import GlobusEmulator

USER = "alice"


@dataclass
class Globus:
    """The emulator, two endpoints, the watcher's settings and a client that submits."""

    emu: GlobusEmulator
    src: str
    dst: str
    src_dir: Path
    settings: GlobusSettings
    submitter: globus_sdk.TransferClient

    @property
    def tokens(self) -> TokenFile:
        return TokenFile(self.settings.token_db)

    def log_in(self, lifetime: float | None = None) -> dict[str, Any]:
        """Store fresh tokens for the watcher, as `watcher login` would."""
        issued = self.emu.issue_tokens(USER, lifetime=lifetime)
        self.tokens.store_data(stored(issued))
        return issued

    def submit(self, size: int = 1000, label: str | None = None, files: int = 1) -> str:
        data = globus_sdk.TransferData(self.src, self.dst, label=label)
        for i in range(files):
            name = f"f{time.monotonic_ns()}-{i}"
            (self.src_dir / name).write_bytes(b"x" * size)
            data.add_item(f"/~/{name}", f"/~/{name}")
        return str(self.submitter.submit_transfer(data)["task_id"])


def stored(issued: dict[str, Any]) -> TokenStorageData:
    return TokenStorageData(resource_server=TRANSFER_RS, identity_id=issued["identity_id"],
                            scope=issued["scope"], access_token=issued["access_token"],
                            refresh_token=issued["refresh_token"],
                            expires_at_seconds=issued["expires_at_seconds"],
                            token_type="Bearer")


def no_sleep_retries(client: globus_sdk.BaseClient) -> None:
    client.retry_config.backoff = lambda ctx: 0.0


@pytest.fixture
def emu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GlobusEmulator]:
    with GlobusEmulator(tmp_path / "emulator") as running:
        for name, value in running.env.items():  # the SDK reads these itself
            monkeypatch.setenv(name, value)
        yield running


@pytest.fixture
def globus(emu: GlobusEmulator, tmp_path: Path) -> Globus:
    src_dir = tmp_path / "src"
    src = emu.add_endpoint(src_dir, display_name="source")
    dst = emu.add_endpoint(tmp_path / "dst", display_name="destination")
    settings = GlobusSettings(client_id=emu.native_client_id, token_db=tmp_path / "tokens.db",
                              poll_interval=0, endpoint_interval=0, request_timeout=5,
                              max_sleep=0.01, down_after=2)
    submitter = globus_sdk.TransferClient(authorizer=emu.authorizer(emu.issue_tokens(USER)))
    no_sleep_retries(submitter)
    world = Globus(emu, src, dst, src_dir, settings, submitter)
    world.log_in()
    return world


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `check` every 20 ms until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
