"""Auth routes through the real globus-sdk auth clients and authorizers."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import globus_sdk
import pytest
import requests

from tests.sim.globus.conftest import World, fast_retries, transfer_client
from watcher.sim.globus.scopes import TRANSFER_ALL, TRANSFER_RS
from watcher.sim.globus.testing import GlobusEmulator


def native(emu: GlobusEmulator) -> globus_sdk.NativeAppAuthClient:
    return globus_sdk.NativeAppAuthClient(emu.native_client_id, base_url=emu.auth_url)


def test_a_dead_access_token_is_refreshed_and_the_rotated_token_kept(world: World) -> None:
    saved: list[globus_sdk.OAuthTokenResponse] = []
    tc = globus_sdk.TransferClient(authorizer=world.emu.authorizer(world.tokens, saved.append),
                                   base_url=world.emu.transfer_url)
    fast_retries(tc)
    assert not list(tc.task_list())
    world.emu.expire_access_tokens("alice")  # the client still believes its token is good
    world.emu.set_token_lifetime(2)
    assert not list(tc.task_list())  # 401, refresh, retry: invisible to the caller
    assert len(saved) == 1
    fresh = saved[0].by_resource_server[TRANSFER_RS]
    assert fresh["refresh_token"] != world.tokens["refresh_token"]
    assert fresh["expires_at_seconds"] - time.time() <= 2
    assert world.emu.counters()["POST /v2/oauth2/token"] == 1
    with pytest.raises(globus_sdk.AuthAPIError) as err:  # rotation killed the old one
        native(world.emu).oauth2_refresh_token(world.tokens["refresh_token"])
    assert err.value.http_status == 400


def test_access_tokens_really_expire(world: World) -> None:
    tokens = world.emu.issue_tokens("alice", lifetime=0.2)
    stale = {**tokens, "expires_at_seconds": int(time.time()) + 3600}  # a client's wrong belief
    saved: list[object] = []
    tc = globus_sdk.TransferClient(authorizer=world.emu.authorizer(stale, saved.append),
                                   base_url=world.emu.transfer_url)
    fast_retries(tc)
    time.sleep(0.25)
    tc.task_list()
    assert len(saved) == 1


def test_a_revoked_refresh_token_is_invalid_grant(world: World) -> None:
    world.emu.revoke_refresh_tokens("alice")
    world.emu.expire_access_tokens("alice")
    with pytest.raises(globus_sdk.AuthAPIError) as err:
        world.tc.task_list()
    assert err.value.http_status == 400
    assert err.value.raw_json == {"error": "invalid_grant"}


@pytest.mark.parametrize("redirect", [None, "http://localhost:8765/callback"])
def test_native_app_flow_with_pkce(emu: GlobusEmulator, redirect: str | None) -> None:
    client = native(emu)
    client.oauth2_start_flow(requested_scopes=TRANSFER_ALL, refresh_tokens=True,
                             **({"redirect_uri": redirect} if redirect else {}))
    answer = requests.get(client.oauth2_get_authorize_url(query_params={
        "emulator_user": "carol"}), allow_redirects=False, timeout=5)
    if redirect:
        assert answer.status_code == 302
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    else:
        code = answer.headers["X-Emulator-Code"]
        assert code in answer.text
    tokens = client.oauth2_exchange_code_for_tokens(code)
    assert "id_token" not in tokens.data
    transfer = tokens.by_resource_server[TRANSFER_RS]
    assert transfer["refresh_token"]
    tc = globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(transfer["access_token"]),
        base_url=emu.transfer_url)
    assert tc.task_list()["total"] == 0
    with pytest.raises(globus_sdk.AuthAPIError):  # a code works once
        client.oauth2_exchange_code_for_tokens(code)


def test_client_credentials_act_as_the_client(world: World) -> None:
    client_id = str(uuid.uuid4())
    confidential = globus_sdk.ConfidentialAppAuthClient(client_id, "secret",
                                                        base_url=world.emu.auth_url)
    authorizer = globus_sdk.ClientCredentialsAuthorizer(confidential, TRANSFER_ALL)
    tc = globus_sdk.TransferClient(authorizer=authorizer, base_url=world.emu.transfer_url)
    (world.src_dir / "a").write_text("a")
    data = globus_sdk.TransferData(world.src, world.dst)
    data.add_item("/a", "/a")
    task = tc.get_task(tc.submit_transfer(data)["task_id"])
    assert task["owner_id"] == client_id
    introspected = confidential.oauth2_token_introspect(authorizer.access_token or "")
    assert introspected["active"] and introspected["sub"] == client_id
    wrong = globus_sdk.ConfidentialAppAuthClient(client_id, "guess", base_url=world.emu.auth_url)
    with pytest.raises(globus_sdk.AuthAPIError) as err:
        wrong.oauth2_client_credentials_tokens(requested_scopes=TRANSFER_ALL)
    assert err.value.http_status == 401


def test_userinfo_identities_and_revoke(emu: GlobusEmulator) -> None:
    tokens = emu.issue_tokens("dave", scopes="openid profile email "
                              "urn:globus:auth:scope:auth.globus.org:view_identity_set")
    auth = globus_sdk.AuthClient(authorizer=globus_sdk.AccessTokenAuthorizer(
        tokens["access_token"]), base_url=emu.auth_url)
    info = auth.userinfo()
    assert info["sub"] == emu.identity_id("dave") == tokens["identity_id"]
    found = auth.get_identities(usernames="dave@emulator.globus.org")
    assert found["identities"][0]["id"] == info["sub"]
    native(emu).oauth2_revoke_token(tokens["access_token"])
    with pytest.raises(globus_sdk.AuthAPIError):
        auth.userinfo()


def test_a_second_user_cannot_refresh_with_another_client(world: World) -> None:
    other = globus_sdk.NativeAppAuthClient(str(uuid.uuid4()), base_url=world.emu.auth_url)
    with pytest.raises(globus_sdk.AuthAPIError):
        other.oauth2_refresh_token(world.tokens["refresh_token"])
    assert transfer_client(world.emu, world.tokens).task_list()["total"] == 0
