"""`TokenFile`: SQLite token storage readable by the user only, round trips, refresh merges."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import globus_sdk

from tests.globus._world import Globus, stored
from watcher.globus.tokens import TRANSFER_RS, TokenFile


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_token_file_is_readable_by_the_user_only(globus: Globus, tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "deep" / "dir" / "tokens.db")
    assert not tokens.exists() and tokens.transfer_tokens() is None
    tokens.store_data(stored(globus.emu.issue_tokens("alice")))
    assert tokens.exists() and mode(tokens.path) == 0o600


def test_a_loose_existing_file_is_tightened(globus: Globus) -> None:
    os.chmod(globus.tokens.path, 0o644)
    assert globus.tokens.transfer_tokens() is not None
    assert mode(globus.tokens.path) == 0o600


def test_a_refresh_answer_keeps_the_known_identity(globus: Globus) -> None:
    before = globus.tokens.transfer_tokens()
    assert before is not None and before.identity_id and before.refresh_token
    client = globus_sdk.NativeAppAuthClient(globus.settings.client_id)
    globus.tokens.store(client.oauth2_refresh_token(before.refresh_token))
    after = globus.tokens.transfer_tokens()
    assert after is not None and after.resource_server == TRANSFER_RS
    assert after.refresh_token != before.refresh_token  # the emulator rotates refresh tokens
    assert after.identity_id == before.identity_id


def test_namespaces_keep_tokens_apart(globus: Globus) -> None:
    other = TokenFile(globus.tokens.path, namespace="other-user")
    assert other.transfer_tokens() is None
    assert globus.tokens.transfer_tokens() is not None
