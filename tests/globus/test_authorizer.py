"""`StoredTokenAuthorizer` against the emulator's Auth: refresh, persist, stop, resume."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.globus._world import USER, Globus
from watcher.globus.clients import build_clients
from watcher.globus.errors import CredentialsExpired

TOKEN_ROUTE = "POST /v2/oauth2/token"


def refreshes(globus: Globus) -> int:
    return globus.emu.counters().get(TOKEN_ROUTE, 0)


def test_short_lived_access_tokens_are_refreshed_and_the_rotated_token_saved(
        globus: Globus) -> None:
    globus.emu.set_token_lifetime(2)
    globus.log_in(lifetime=2)
    first = globus.tokens.transfer_tokens()
    clients = build_clients(globus.settings)
    for _ in range(3):
        assert clients.transfer.get_endpoint(globus.src)["id"] == globus.src
    saved = globus.tokens.transfer_tokens()
    assert first is not None and saved is not None
    assert saved.refresh_token != first.refresh_token and refreshes(globus) >= 1
    # A restart reads the saved (rotated) token: the first one is dead by now.
    restarted = build_clients(globus.settings)
    assert restarted.transfer.get_endpoint(globus.dst)["id"] == globus.dst


def test_threads_sharing_the_client_never_refresh_with_the_same_token(globus: Globus) -> None:
    globus.emu.set_token_lifetime(2)  # every request refreshes: the worst case for rotation
    globus.log_in(lifetime=2)
    clients = build_clients(globus.settings)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: clients.transfer.get_endpoint(globus.src)["id"],
                              range(24)))
    assert found == [globus.src] * 24 and not clients.authorizer.expired


def test_a_dead_refresh_token_stops_all_calls_until_new_tokens_are_stored(
        globus: Globus) -> None:
    clients = build_clients(globus.settings)
    clients.transfer.get_endpoint(globus.src)
    globus.emu.revoke_refresh_tokens(USER)
    globus.emu.expire_access_tokens(USER)
    with pytest.raises(CredentialsExpired, match=r"invalid_grant.*watcher login"):
        clients.transfer.get_endpoint(globus.src)
    asked = refreshes(globus)
    for _ in range(3):  # no hammering: refused once, not asked again
        with pytest.raises(CredentialsExpired):
            clients.ready_transfer()
        with pytest.raises(CredentialsExpired):
            clients.transfer.get_endpoint(globus.src)
    assert refreshes(globus) == asked and clients.authorizer.expired
    globus.log_in()  # `watcher login` wrote new tokens
    assert clients.ready_transfer().get_endpoint(globus.src)["id"] == globus.src
    assert not clients.authorizer.expired


def test_a_token_rotated_by_another_process_is_adopted(globus: Globus) -> None:
    globus.emu.set_token_lifetime(2)
    globus.log_in(lifetime=2)
    mine, other = build_clients(globus.settings), build_clients(globus.settings)
    mine.transfer.get_endpoint(globus.src)  # mine rotates R0 -> R1 and saves R1
    other.transfer.get_endpoint(globus.src)  # other starts from R1, rotates it to R2
    assert mine.transfer.get_endpoint(globus.src)["id"] == globus.src  # R1 refused: reads R2
    assert not mine.authorizer.expired


def test_no_tokens_at_all_is_expired_credentials(globus: Globus, tmp_path) -> None:
    settings = globus.settings.model_copy(update={"token_db": tmp_path / "none.db"})
    with pytest.raises(CredentialsExpired, match="no Globus refresh token"):
        build_clients(settings).ready_transfer()


def test_an_unreadable_token_file_is_expired_credentials(globus: Globus) -> None:
    globus.tokens.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CredentialsExpired, match="cannot read Globus tokens"):
        build_clients(globus.settings).ready_transfer()
