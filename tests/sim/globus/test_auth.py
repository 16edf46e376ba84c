from __future__ import annotations

import base64
import hashlib

import pytest

from watcher.sim.globus.auth import OAuthError, TokenStore
from watcher.sim.globus.scopes import TRANSFER_ALL, TRANSFER_RS


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def store(clock: list[float]) -> TokenStore:
    return TokenStore(lambda: clock[0])


def test_one_token_per_resource_server_and_no_id_token(store: TokenStore) -> None:
    alice = store.identity("alice")["id"]
    answer = store.issue(alice, "client", f"openid email {TRANSFER_ALL}", refresh=True)
    assert answer["resource_server"] == "auth.globus.org"
    assert [t["resource_server"] for t in answer["other_tokens"]] == [TRANSFER_RS]
    assert "id_token" not in answer
    assert all("refresh_token" in t for t in [answer, *answer["other_tokens"]])


def test_access_tokens_expire(store: TokenStore, clock: list[float]) -> None:
    answer = store.issue(store.identity("alice")["id"], "c", TRANSFER_ALL, refresh=False,
                         lifetime=2)
    assert store.valid(answer["access_token"], TRANSFER_RS) is not None
    assert store.valid(answer["access_token"], "auth.globus.org") is None
    clock[0] += 2
    assert store.valid(answer["access_token"], TRANSFER_RS) is None


def test_refresh_rotates_and_the_old_token_dies(store: TokenStore) -> None:
    first = store.issue(store.identity("alice")["id"], "c", TRANSFER_ALL, refresh=True)
    second = store.refresh(first["refresh_token"], "c")
    assert second["refresh_token"] != first["refresh_token"]
    assert store.valid(second["access_token"], TRANSFER_RS) is not None
    with pytest.raises(OAuthError, match="invalid_grant"):
        store.refresh(first["refresh_token"], "c")
    with pytest.raises(OAuthError, match="invalid_grant"):
        store.refresh(second["refresh_token"], "another-client")


def test_without_rotation_the_refresh_token_stays(store: TokenStore) -> None:
    store.rotate_refresh_tokens = False
    first = store.issue(store.identity("alice")["id"], "c", TRANSFER_ALL, refresh=True)
    assert store.refresh(first["refresh_token"], None)["refresh_token"] == first["refresh_token"]


def test_revoked_refresh_tokens_are_invalid_grants(store: TokenStore) -> None:
    alice = store.identity("alice")["id"]
    first = store.issue(alice, "c", TRANSFER_ALL, refresh=True)
    assert store.revoke_all(alice, "refresh") == 1
    with pytest.raises(OAuthError) as err:
        store.refresh(first["refresh_token"], "c")
    assert (err.value.error, err.value.status) == ("invalid_grant", 400)


def test_client_credentials_pin_the_first_secret(store: TokenStore) -> None:
    client = "33333333-3333-3333-3333-333333333333"
    answer = store.client_credentials(client, "s3cret", TRANSFER_ALL)
    token = store.valid(answer["access_token"], TRANSFER_RS)
    assert token is not None and token.identity_id == client
    assert "refresh_token" not in answer
    with pytest.raises(OAuthError) as err:
        store.client_credentials(client, "wrong", TRANSFER_ALL)
    assert err.value.status == 401


def test_authorization_code_with_pkce(store: TokenStore) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {"client_id": "native", "redirect_uri": "http://localhost/cb",
              "scope": TRANSFER_ALL, "code_challenge": challenge.rstrip(b"=").decode(),
              "code_challenge_method": "S256", "access_type": "offline", "state": "s"}
    code = store.authorize(store.identity("alice")["id"], params)
    with pytest.raises(OAuthError):
        store.exchange_code(code, "native", "http://localhost/cb", "wrong verifier")
    code = store.authorize(store.identity("alice")["id"], params)
    answer = store.exchange_code(code, "native", "http://localhost/cb", verifier)
    assert answer["refresh_token"] and answer["state"] == "s"
    with pytest.raises(OAuthError):  # codes are single use
        store.exchange_code(code, "native", "http://localhost/cb", verifier)


def test_snapshot_keeps_live_tokens_only(store: TokenStore, clock: list[float]) -> None:
    alice = store.identity("alice")["id"]
    live = store.issue(alice, "c", TRANSFER_ALL, refresh=True)
    short = store.issue(alice, "c", TRANSFER_ALL, refresh=False, lifetime=1)
    clock[0] += 5
    again = TokenStore(lambda: clock[0])
    again.load(store.to_dict())
    assert again.refresh(live["refresh_token"], "c")["access_token"]
    assert short["access_token"] not in again.tokens
