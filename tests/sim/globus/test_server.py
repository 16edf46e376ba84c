"""The HTTP layer: counting, injected 429/503 answers, unknown routes."""

from __future__ import annotations

import globus_sdk
import pytest
import requests

from tests.sim.globus.conftest import World, fast_retries


@pytest.mark.parametrize("status", [429, 503])
def test_bursts_are_absorbed_by_sdk_retries(world: World, status: int) -> None:
    world.emu.flaky(status=status, count=3)
    assert world.tc.task_list()["total"] == 0
    counts = world.emu.counters()
    assert counts[f"injected {status}"] == 3
    assert counts["GET /v0.10/task_list"] == 4


def test_a_share_of_requests_fails_yet_every_call_succeeds(world: World) -> None:
    world.emu.flaky(status=503, share=0.5)
    for _ in range(5):
        world.tc.task_list()
    # every other request fails: ok | fail ok | fail ok | fail ok | fail ok
    assert world.emu.counters()["injected 503"] == 4
    assert world.emu.counters()["GET /v0.10/task_list"] == 9


def test_an_endless_outage_exhausts_the_retries(world: World) -> None:
    world.emu.flaky(status=503)
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        world.tc.task_list()
    assert (err.value.http_status, err.value.code) == (503, "ServiceUnavailable")
    assert world.emu.counters()["GET /v0.10/task_list"] == 6  # 1 + 5 retries
    world.emu.reset_faults()
    assert world.tc.task_list()["total"] == 0


def test_auth_can_be_made_flaky_too(world: World) -> None:
    world.emu.flaky(status=429, count=2, service="auth", retry_after=0)
    client = globus_sdk.NativeAppAuthClient(world.emu.native_client_id,
                                            base_url=world.emu.auth_url)
    fast_retries(client)
    client.oauth2_refresh_token(world.tokens["refresh_token"])
    assert world.emu.counters()["injected 429"] == 2
    assert world.tc.task_list()["total"] == 0  # transfer is untouched


def test_injected_answers_carry_retry_after(world: World) -> None:
    world.emu.flaky(status=429, count=1, retry_after=7)
    answer = requests.get(f"{world.emu.transfer_url}v0.10/task_list", timeout=5)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "7")
    assert answer.json()["code"] == "TooManyRequests"


def test_admin_routes_are_never_flaky_and_unknown_routes_404(world: World) -> None:
    world.emu.flaky(status=503)
    assert requests.get(f"{world.emu.transfer_url}_emulator/health", timeout=5).ok
    missing = requests.get(f"{world.emu.transfer_url}v0.10/nothing/here", timeout=5)
    assert missing.status_code == 404
    assert world.emu.counters()["GET <unmatched>"] == 1
