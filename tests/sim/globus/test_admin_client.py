"""Every admin route, driven by AdminClient over HTTP and checked through the SDK."""

from __future__ import annotations

from pathlib import Path

import globus_sdk
import pytest

from tests.sim.globus.conftest import World, eventually, submit, transfer_client
from watcher.sim.globus.admin_client import AdminClient, AdminError


@pytest.fixture
def admin(world: World) -> AdminClient:
    return AdminClient(world.emu.transfer_url)


def test_setup_and_inspection(admin: AdminClient, world: World, tmp_path: Path) -> None:
    assert admin.health()
    extra = admin.add_endpoint(str(tmp_path / "extra"), "44444444-4444-4444-4444-444444444444",
                               "extra")
    assert world.tc.get_endpoint(extra)["display_name"] == "extra"
    tokens = admin.issue_tokens("erin", lifetime=60)
    assert tokens["expires_in"] == 60 and tokens["identity_id"] == admin.identity_id("erin")
    tc = transfer_client(world.emu, tokens)
    (world.src_dir / "a").write_text("a")
    data = globus_sdk.TransferData(world.src, extra)
    data.add_item("/a", "/a")
    task_id = tc.submit_transfer(data)["task_id"]
    assert admin.task(task_id)["owner_id"] == tokens["identity_id"]
    assert [t["task_id"] for t in admin.tasks()] == [task_id]
    assert admin.counters()["POST /v0.10/transfer"] == 1
    assert admin.status()["endpoints"][-1]["display_name"] == "extra"
    admin.reset_counters()
    assert "POST /v0.10/transfer" not in admin.counters()


def test_task_and_endpoint_faults(admin: AdminClient, world: World) -> None:
    admin.set_bandwidth(10_000)
    (world.src_dir / "big").write_bytes(b"b" * 100_000)
    first = submit(world, [("/big", "/1")])
    admin.fail_task(first, code="ENDPOINT_ERROR")
    assert world.tc.get_task(first)["fatal_error"]["code"] == "ENDPOINT_ERROR"
    admin.pause_endpoint(world.src)
    second = submit(world, [("/big", "/2")])
    assert world.tc.get_task(second)["is_paused"]
    admin.resume_endpoint(world.src)
    eventually(lambda: not world.tc.get_task(second)["is_paused"])
    admin.expire_credentials("alice", world.src)
    eventually(lambda: world.tc.get_task(second)["status"] == "INACTIVE")
    admin.restore_credentials("alice")
    eventually(lambda: world.tc.get_task(second)["status"] == "ACTIVE")
    admin.set_quota(world.dst, 0)
    eventually(lambda: world.tc.get_task(second)["nice_status"] == "QUOTA_EXCEEDED")
    admin.set_quota(world.dst, None)
    admin.set_bandwidth(1e9)
    world.emu.wait_task(second, "SUCCEEDED")


def test_token_faults(admin: AdminClient, world: World) -> None:
    admin.set_token_lifetime(30)
    assert admin.expire_access_tokens("alice") == 1
    world.tc.task_list()  # refreshed with a 30 s token
    assert world.emu.status()["token_lifetime"] == 30
    assert admin.revoke_refresh_tokens("alice") == 1
    admin.expire_access_tokens()
    with pytest.raises(globus_sdk.AuthAPIError):
        world.tc.task_list()


def test_flaky_and_reset(admin: AdminClient, world: World) -> None:
    admin.flaky(status=429, count=2)
    world.tc.task_list()
    assert admin.counters()["injected 429"] == 2
    admin.flaky(status=503)
    admin.reset_faults()
    world.tc.task_list()
    assert admin.status()["faults"]["flaky"] is None


def test_refusals_are_admin_errors(admin: AdminClient) -> None:
    with pytest.raises(AdminError, match="404"):
        admin.fail_task("no-such-task")
    with pytest.raises(AdminError, match="400"):
        admin.flaky(share=3)
    with pytest.raises(AdminError, match="400"):
        admin.add_endpoint("/tmp/x", "not-a-uuid")
    assert not AdminClient("http://127.0.0.1:9", timeout=1).health()
