"""`GlobusEmulator`: the Globus emulator for tests, demos and benchmarks, in one `with` block.

It runs in-process (an HTTP server thread plus the engine thread), which keeps start-up near
instant, lets a test call the fault API directly, and leaves nothing behind: leaving the block
stops both threads and writes the snapshot. Clients still talk to it over real HTTP, so the
real globus-sdk (and globus-cli in a subprocess) exercise their whole stack.

    from watcher.sim.globus.testing import GlobusEmulator

    with GlobusEmulator(tmp_path / "globus") as emu:
        src = emu.add_endpoint(tmp_path / "src")
        dst = emu.add_endpoint(tmp_path / "dst")
        tokens = emu.issue_tokens("alice")            # access + refresh, no browser
        tc = globus_sdk.TransferClient(authorizer=emu.authorizer(tokens),
                                       base_url=emu.transfer_url)
        ...
        emu.wait_task(task_id, "SUCCEEDED", timeout=10)

Stable API (others build on it):
- attributes: `transfer_url`, `auth_url` (the same server), `env` (the two
  `GLOBUS_SDK_SERVICE_URL_*` variables), `home`, `native_client_id`.
- setup: `add_endpoint(path, endpoint_id=None) -> str`, `issue_tokens(user="alice",
  lifetime=None) -> dict` (a token response plus `expires_at_seconds`, `client_id`,
  `identity_id`), `authorizer(tokens, on_refresh=None)` (a `RefreshTokenAuthorizer`),
  `identity_id(user)`.
- faults: `fail_task`, `pause_endpoint`, `resume_endpoint`, `expire_credentials`,
  `restore_credentials`, `set_quota`, `revoke_refresh_tokens`, `expire_access_tokens`,
  `set_token_lifetime`, `set_bandwidth`, `flaky`, `reset_faults` (inherited from `Emulator`,
  whose docstrings say what each does).
- inspection: `counters(client=None) -> dict[str, int]`, `counters_by_client()`,
  `reset_counters(client=None)`, `task(task_id) -> dict`,
  `tasks()`, `wait_task(task_id, status, timeout) -> dict`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from watcher.sim.globus.emulator import DEFAULT_BANDWIDTH, NATIVE_CLIENT_ID, Emulator
from watcher.sim.globus.server import EmulatorServer


class GlobusEmulator(Emulator):
    """An emulator serving on 127.0.0.1 for the duration of a `with` block."""

    native_client_id = NATIVE_CLIENT_ID

    def __init__(self, home: Path, bandwidth: float = DEFAULT_BANDWIDTH, port: int = 0) -> None:
        super().__init__(Path(home), bandwidth=bandwidth)
        self._server = EmulatorServer(self, port=port)

    def __enter__(self) -> GlobusEmulator:
        self._server.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.stop()

    @property
    def transfer_url(self) -> str:
        """Where the SDK's TransferClient should point (the emulator serves both APIs)."""
        return self._server.url

    @property
    def auth_url(self) -> str:
        """Where the SDK's AuthClient should point."""
        return self._server.url

    @property
    def env(self) -> dict[str, str]:
        """The globus-sdk environment variables that send a client here."""
        return {"GLOBUS_SDK_SERVICE_URL_TRANSFER": self.transfer_url,
                "GLOBUS_SDK_SERVICE_URL_AUTH": self.auth_url}

    def authorizer(self, tokens: dict[str, Any],
                   on_refresh: Callable[[Any], Any] | None = None) -> Any:
        """A RefreshTokenAuthorizer for tokens from `issue_tokens`, refreshing here."""
        import globus_sdk

        client = globus_sdk.NativeAppAuthClient(tokens["client_id"], base_url=self.auth_url)
        return globus_sdk.RefreshTokenAuthorizer(
            tokens["refresh_token"], client, access_token=tokens["access_token"],
            expires_at=tokens["expires_at_seconds"], on_refresh=on_refresh)

    def wait_task(self, task_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll (every 20 ms) until the task has `status`; TimeoutError names the last one."""
        deadline = time.monotonic() + timeout
        doc = self.task(task_id)
        while doc["status"] != status:
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} is {doc['status']} "
                                   f"({doc['nice_status']}), not {status}, after {timeout}s")
            time.sleep(0.02)
            doc = self.task(task_id)
        return doc
