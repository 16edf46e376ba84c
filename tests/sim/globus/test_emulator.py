"""The Python fault API, observed through the SDK; snapshots across restarts."""

from __future__ import annotations

from pathlib import Path

import globus_sdk
import pytest

from tests.sim.globus.conftest import World, eventually, submit, transfer_client
from watcher.sim.globus.testing import GlobusEmulator


def slow_file(world: World, name: str = "big", size: int = 100_000) -> str:
    world.emu.set_bandwidth(20_000)
    (world.src_dir / name).write_bytes(b"z" * size)
    return f"/{name}"


def test_fail_task(world: World) -> None:
    task_id = submit(world, [(slow_file(world), "/big")])
    world.emu.fail_task(task_id, code="PERMISSION_DENIED", description="denied")
    doc = world.tc.get_task(task_id)
    assert (doc["status"], doc["fatal_error"]) == (
        "FAILED", {"code": "PERMISSION_DENIED", "description": "denied"})
    assert doc["completion_time"] and doc["nice_status"] is None
    with pytest.raises(KeyError):
        world.emu.fail_task("no-such-task")


def test_pause_endpoint(world: World) -> None:
    world.emu.pause_endpoint(world.dst)
    task_id = submit(world, [(slow_file(world), "/big")])
    doc = world.tc.get_task(task_id)
    assert (doc["status"], doc["is_paused"], doc["nice_status"]) == ("ACTIVE", True, "Queued")
    assert world.tc.task_pause_info(task_id)["pause_rules"]
    assert world.tc.get_task(task_id)["bytes_transferred"] == 0
    world.emu.set_bandwidth(1e9)
    world.emu.resume_endpoint(world.dst)
    world.emu.wait_task(task_id, "SUCCEEDED")
    assert world.tc.get_task(task_id)["is_paused"] is False


def test_expired_credentials(world: World) -> None:
    task_id = submit(world, [(slow_file(world), "/big")])
    world.emu.expire_credentials("alice", world.dst)
    doc = world.emu.wait_task(task_id, "INACTIVE")
    assert doc["nice_status"] == "AUTH" and doc["is_ok"] is False
    endpoint = world.tc.get_endpoint(world.dst)
    assert (endpoint["activated"], endpoint["expires_in"]) == (False, 0)
    assert world.tc.get_endpoint(world.src)["activated"] is True
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        submit(world, [("/big", "/again")])
    assert err.value.http_status == 403
    assert world.dst in err.value.info.consent_required.required_scopes[0]
    world.emu.set_bandwidth(1e9)
    world.emu.restore_credentials("alice")
    world.emu.wait_task(task_id, "SUCCEEDED")


def test_quota(world: World) -> None:
    task_id = submit(world, [(slow_file(world, size=50_000), "/big")])
    world.emu.set_quota(world.dst, 10_000)
    eventually(lambda: world.emu.task(task_id)["nice_status"] == "QUOTA_EXCEEDED")
    doc = world.tc.get_task(task_id)
    assert (doc["status"], doc["bytes_transferred"]) == ("ACTIVE", 10_000)
    assert "QUOTA_EXCEEDED" in [e["code"] for e in world.tc.task_event_list(task_id)]
    world.emu.set_bandwidth(1e9)
    world.emu.set_quota(world.dst, None)
    world.emu.wait_task(task_id, "SUCCEEDED")


def test_tasks_tokens_and_faults_survive_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with GlobusEmulator(home, bandwidth=20_000) as emu:
        src, dst = emu.add_endpoint(tmp_path / "src"), emu.add_endpoint(tmp_path / "dst")
        (tmp_path / "src/big").write_bytes(b"q" * 200_000)
        tokens = emu.issue_tokens("alice")
        data = globus_sdk.TransferData(src, dst)
        data.add_item("/big", "/big")
        task_id = transfer_client(emu, tokens).submit_transfer(data)["task_id"]
        emu.pause_endpoint(src)  # shown at once, not at the next tick: the snapshot has it
        assert transfer_client(emu, tokens).get_task(task_id)["is_paused"] is True
    with GlobusEmulator(home, bandwidth=1e9) as emu:
        tc = transfer_client(emu, tokens)
        assert tc.get_task(task_id)["is_paused"] is True
        assert tc.submit_transfer(data)["code"] == "Duplicate"
        emu.resume_endpoint(src)
        emu.wait_task(task_id, "SUCCEEDED")
    assert (tmp_path / "dst/big").read_bytes() == b"q" * 200_000
