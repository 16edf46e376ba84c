"""GlobusEmulator: the helper other tests and demos build on."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import globus_sdk
import pytest

from watcher.sim.globus.testing import GlobusEmulator


def test_env_points_the_sdk_at_the_emulator(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with GlobusEmulator(tmp_path) as emu:
        assert set(emu.env) == {"GLOBUS_SDK_SERVICE_URL_TRANSFER",
                                "GLOBUS_SDK_SERVICE_URL_AUTH"}
        for name, value in emu.env.items():
            monkeypatch.setenv(name, value)
        src, dst = emu.add_endpoint(tmp_path / "a"), emu.add_endpoint(tmp_path / "b")
        (tmp_path / "a/f").write_text("payload")
        tokens = emu.issue_tokens("alice")
        tc = globus_sdk.TransferClient(authorizer=emu.authorizer(tokens))  # no base_url
        data = globus_sdk.TransferData(src, dst)
        data.add_item("/f", "/g")
        doc = emu.wait_task(tc.submit_transfer(data)["task_id"], "SUCCEEDED", timeout=5)
        assert doc["bytes_transferred"] == 7
        assert (tmp_path / "b/g").read_text() == "payload"
        with pytest.raises(TimeoutError, match="SUCCEEDED"):
            emu.wait_task(doc["task_id"], "FAILED", timeout=0.05)
    assert (tmp_path / "state.json").exists()


def test_it_stops_by_itself(tmp_path: Path) -> None:
    with GlobusEmulator(tmp_path) as emu:
        host, port = urlsplit(emu.transfer_url).hostname, urlsplit(emu.transfer_url).port
        assert host == "127.0.0.1" and emu.auth_url == emu.transfer_url
    with pytest.raises(OSError), socket.create_connection((host, port), timeout=1):
        pass
    assert not [t for t in threading.enumerate() if t.name.startswith("globus-emulator")]
