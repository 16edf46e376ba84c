"""Sorting real Globus errors from the emulator: dead refresh tokens by body, passing faults."""

from __future__ import annotations

import globus_sdk
import pytest

from tests.globus._world import Globus, no_sleep_retries
from watcher.globus.errors import describe, is_invalid_grant, is_transient


def refresh_error(globus: Globus, token: str) -> globus_sdk.AuthAPIError:
    client = globus_sdk.NativeAppAuthClient(globus.settings.client_id)
    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        client.oauth2_refresh_token(token)
    return caught.value


def test_a_revoked_refresh_token_is_invalid_grant_by_its_body(globus: Globus) -> None:
    issued = globus.emu.issue_tokens("alice")
    globus.emu.revoke_refresh_tokens("alice")
    exc = refresh_error(globus, issued["refresh_token"])
    assert exc.http_status == 400 and exc.code is None  # SDK 4: `.code` says nothing here
    assert is_invalid_grant(exc)
    assert not is_transient(exc)
    assert "invalid_grant" in describe(exc)


def test_other_errors_are_not_dead_credentials(globus: Globus) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        globus.submitter.get_task("00000000-0000-0000-0000-000000000001")
    assert caught.value.http_status == 404
    assert not is_invalid_grant(caught.value) and not is_transient(caught.value)
    assert describe(caught.value).startswith("HTTP 404: TaskNotFound")


def test_503_after_the_sdk_retries_is_transient(globus: Globus) -> None:
    client = globus.submitter
    no_sleep_retries(client)
    globus.emu.flaky(503, share=1.0)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.get_endpoint(globus.src)
    assert caught.value.http_status == 503 and is_transient(caught.value)


def test_an_unreachable_service_is_transient() -> None:
    client = globus_sdk.TransferClient(base_url="http://127.0.0.1:9/")
    client.retry_config.max_retries = 0
    with pytest.raises(globus_sdk.NetworkError) as caught:
        client.get_endpoint("x")
    assert is_transient(caught.value)
    assert describe(caught.value).startswith("GlobusConnectionError")
