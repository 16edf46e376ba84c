"""globus-cli 3.43 (a subprocess, client-credentials login) against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.sim.globus.conftest import World

GLOBUS = str(Path(sys.executable).parent / "globus")
CLIENT_ID = str(uuid.UUID(int=0xC11))


@pytest.fixture
def cli_env(world: World, tmp_path: Path) -> dict[str, str]:
    """The emulator's URLs, a client identity and a private HOME: never the real one."""
    home = tmp_path / "cli-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "XDG_"))}
    return {**env, **world.emu.env, "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local"),
            "GLOBUS_CLI_CLIENT_ID": CLIENT_ID, "GLOBUS_CLI_CLIENT_SECRET": "cli-secret"}


def globus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GLOBUS, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_transfer_then_task_show(world: World, cli_env: dict[str, str]) -> None:
    (world.src_dir / "a").mkdir()
    (world.src_dir / "a/file.txt").write_text("from the cli\n")
    done = globus(cli_env, "transfer", f"{world.src}:/a", f"{world.dst}:/b",
                  "--jq", "task_id", "--format", "UNIX")
    assert done.returncode == 0, done.stderr
    task_id = done.stdout.strip()
    assert world.emu.task(task_id)["owner_id"] == CLIENT_ID
    world.emu.wait_task(task_id, "SUCCEEDED")
    shown = globus(cli_env, "task", "show", task_id, "--jq", "status")
    assert (shown.returncode, shown.stdout.strip()) == (0, '"SUCCEEDED"')
    unix = globus(cli_env, "task", "show", task_id, "--jq", "status", "--format", "UNIX")
    assert unix.stdout.strip() == "SUCCEEDED"
    assert (world.dst_dir / "b/file.txt").read_text() == "from the cli\n"
    assert world.emu.counters()["POST /v2/oauth2/token"] >= 1


def test_consent_required_exits_4(world: World, cli_env: dict[str, str]) -> None:
    (world.src_dir / "f").write_text("f")
    world.emu.expire_credentials(CLIENT_ID, world.dst)
    refused = globus(cli_env, "transfer", f"{world.src}:/f", f"{world.dst}:/f")
    assert refused.returncode == 4, refused.stderr
    assert "data_access" in refused.stdout + refused.stderr
