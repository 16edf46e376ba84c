"""Endpoints can be removed, in the running emulator and in its configuration file, and the
list table shows whole ids however narrow the terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import globus_sdk
import pytest
from click.testing import CliRunner

from tests.sim.globus.conftest import World, submit
from watcher.cli import cli
from watcher.sim.globus.admin_client import AdminClient, AdminError

ID = "33333333-3333-4333-8333-333333333333"


def test_a_removed_endpoint_is_gone_and_its_unfinished_tasks_fail(world: World) -> None:
    world.emu.set_bandwidth(1)
    (world.src_dir / "big").write_bytes(b"x" * 10_000)
    task_id = submit(world, [("/big", "/big")])
    AdminClient(world.emu.transfer_url).remove_endpoint(world.dst)
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        world.tc.get_endpoint(world.dst)
    assert err.value.http_status == 404
    task = world.emu.wait_task(task_id, "FAILED")
    assert task["fatal_error"]["code"] == "ENDPOINT_ERROR"
    with pytest.raises(AdminError, match="404"):
        AdminClient(world.emu.transfer_url).remove_endpoint(world.dst)


def test_cli_removes_from_the_configuration_and_lists_whole_ids(tmp_path: Path) -> None:
    home = tmp_path / "home"
    runner = CliRunner()
    added = runner.invoke(cli, ["sim", "globus", "endpoint", "add", ID,
                                str(tmp_path / "a" / "very" / "long" / "directory" / "name"),
                                "--home", str(home), "--name", "scratch space"])
    assert added.exit_code == 0, added.output
    narrow = subprocess.run(
        [sys.executable, "-m", "watcher", "sim", "globus", "endpoint", "list", "--home",
         str(home)], capture_output=True, text=True, env={"COLUMNS": "50", "PATH": "/bin"},
        timeout=60)
    assert narrow.returncode == 0, narrow.stderr
    assert ID in narrow.stdout
    removed = runner.invoke(cli, ["sim", "globus", "endpoint", "remove", ID, "--home", str(home)])
    assert (removed.exit_code, removed.output) == (0, f"removed {ID}\n")
    assert ID not in runner.invoke(cli, ["sim", "globus", "endpoint", "list", "--home",
                                         str(home)]).output
    again = runner.invoke(cli, ["sim", "globus", "endpoint", "remove", ID, "--home", str(home)])
    assert again.exit_code != 0 and "no endpoint" in again.output
