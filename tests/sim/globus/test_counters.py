"""Request counters count the API as a client sees it: per client, resettable, and never the
emulator's own /_emulator routes (which are the test's calls, not the API's)."""

from __future__ import annotations

import globus_sdk
import requests

from tests.sim.globus.conftest import World, transfer_client
from watcher.sim.globus.admin_client import AdminClient
from watcher.sim.globus.emulator import ANONYMOUS, NATIVE_CLIENT_ID

OTHER_CLIENT = "5e1f2a3b-0000-4000-8000-00000000c0de"


def test_admin_routes_are_not_counted(world: World) -> None:
    admin = AdminClient(world.emu.transfer_url)
    admin.status()
    admin.tasks()
    admin.pause_endpoint(world.dst)
    world.tc.task_list()
    assert world.emu.counters() == {"GET /v0.10/task_list": 1}
    assert admin.counters() == {"GET /v0.10/task_list": 1}


def test_counters_split_by_client_and_reset_one_or_all(world: World) -> None:
    other = transfer_client(world.emu, world.emu.issue_tokens("bob", client_id=OTHER_CLIENT))
    world.tc.task_list()
    other.task_list()
    other.get_endpoint(world.src)
    requests.get(f"{world.emu.transfer_url}v0.10/task_list", timeout=5)  # no token at all
    admin = AdminClient(world.emu.transfer_url)
    assert admin.counters(NATIVE_CLIENT_ID) == {"GET /v0.10/task_list": 1}
    assert admin.counters(OTHER_CLIENT) == {"GET /v0.10/task_list": 1,
                                            "GET /v0.10/endpoint/{endpoint_id}": 1}
    assert admin.counters_by_client()[ANONYMOUS] == {"GET /v0.10/task_list": 1}
    assert admin.counters()["GET /v0.10/task_list"] == 3
    assert admin.status()["counters_by_client"][OTHER_CLIENT] == admin.counters(OTHER_CLIENT)
    admin.reset_counters(OTHER_CLIENT)
    assert OTHER_CLIENT not in admin.counters_by_client()
    assert admin.counters()["GET /v0.10/task_list"] == 2
    admin.reset_counters()
    assert admin.counters() == {}


def test_a_refresh_counts_for_the_client_that_asked(world: World) -> None:
    auth = globus_sdk.NativeAppAuthClient(NATIVE_CLIENT_ID, base_url=world.emu.auth_url)
    auth.oauth2_refresh_token(world.tokens["refresh_token"])
    assert world.emu.counters(NATIVE_CLIENT_ID) == {"POST /v2/oauth2/token": 1}
