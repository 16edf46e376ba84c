"""The native-app login flow (PKCE), run once by `watcher login`; the daemon never runs it.

It asks for refresh tokens (`access_type=offline`): a watcher waits for days, far beyond an
access token's life. The user opens the authorize URL in any browser (on their laptop when
the watcher runs on a login node), logs in, and pastes the code Globus shows.

It also asks for `openid profile email`, to record whom the tokens belong to (`watcher
status`), and, for each `--collection`, the collection's `data_access` scope as an optional
dependency of Transfer's, built with globus-sdk's scope helpers exactly as its
`TransferClient.add_app_data_access_scope` does: Globus Connect Server v5 mapped collections
refuse transfers (`ConsentRequired`) until the user consented to that scope.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import globus_sdk
from globus_sdk.scopes import AuthScopes, GCSCollectionScopes, Scope, TransferScopes

from watcher.globus.login_info import LoginInfo, record_login
from watcher.globus.tokens import TRANSFER_RS, TokenFile

AUTH_RS = "auth.globus.org"


class LoginError(Exception):
    """The login did not produce usable tokens; the message says why in one line."""


@dataclass
class LoginFlow:
    """A started flow: the URL to open, and the client that knows the PKCE verifier."""

    client: globus_sdk.NativeAppAuthClient
    url: str
    client_id: str = ""
    collections: list[str] = field(default_factory=list)


def transfer_scope(collections: Sequence[str] = ()) -> Scope:
    """Transfer's scope with an optional `data_access` dependency per collection."""
    scope = TransferScopes.all
    if collections:
        scope = scope.with_dependencies(
            [GCSCollectionScopes(c).data_access.with_optional(True) for c in collections])
    return scope


def checked_collections(collections: Sequence[str]) -> list[str]:
    """The collection ids, normalized; a malformed one is a `LoginError` naming it."""
    found: list[str] = []
    for raw in collections:
        try:
            value = str(uuid.UUID(raw.strip()))
        except ValueError as exc:
            raise LoginError(f"--collection {raw!r} is not a collection id (a UUID)") from exc
        if value not in found:
            found.append(value)
    return found


def start_login(client_id: str, collections: Sequence[str] = ()) -> LoginFlow:
    """Start the flow for Transfer (with `collections`' data_access), with refresh tokens."""
    wanted = checked_collections(collections)
    client = globus_sdk.NativeAppAuthClient(client_id)
    client.oauth2_start_flow(
        requested_scopes=[AuthScopes.openid, AuthScopes.profile, AuthScopes.email,
                          transfer_scope(wanted)],
        refresh_tokens=True,
        # The name the user later sees in their Globus consents, to revoke it knowingly.
        prefill_named_grant=f"watcher on {socket.gethostname()}",
    )
    return LoginFlow(client, client.oauth2_get_authorize_url(), client_id, wanted)


def finish_login(flow: LoginFlow, code: str, tokens: TokenFile) -> None:
    """Exchange the pasted code for tokens and store them (the running daemon picks them up)."""
    code = code.strip()
    if not code:
        raise LoginError("no authorization code given")
    try:
        response = flow.client.oauth2_exchange_code_for_tokens(code)
    except globus_sdk.AuthAPIError as exc:
        body = exc.raw_json if isinstance(exc.raw_json, dict) else {}
        reason = body.get("error") or exc.message or f"HTTP {exc.http_status}"
        raise LoginError(f"Globus refused the authorization code ({reason}); "
                         "run `watcher login` again and paste the new code") from exc
    except globus_sdk.NetworkError as exc:
        raise LoginError(f"cannot reach Globus Auth: {exc}") from exc
    transfer = response.by_resource_server.get(TRANSFER_RS)
    if transfer is None or not transfer.get("refresh_token"):
        raise LoginError("Globus returned no Transfer refresh token; the watcher needs one")
    tokens.store(response)
    username, identity_id = _whom(response)
    record_login(tokens.path, LoginInfo(
        client_id=flow.client_id, logged_in_at=datetime.now(UTC), username=username,
        identity_id=identity_id, collections=flow.collections))


def _whom(response: globus_sdk.OAuthTokenResponse) -> tuple[str | None, str | None]:
    """The username and identity id the login was for, from Auth's userinfo (best effort:
    the tokens are good without them, so a failure here only leaves them unknown)."""
    auth = response.by_resource_server.get(AUTH_RS)
    if auth is None:
        return None, None
    try:
        info = globus_sdk.AuthClient(
            authorizer=globus_sdk.AccessTokenAuthorizer(auth["access_token"])).userinfo()
    except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError):
        return None, None
    return info.get("preferred_username"), info.get("sub")


def can_open_browser() -> bool:
    """Whether a browser here would reach the user: not over SSH, and on Linux a display.

    On a login node `webbrowser` could start a text browser inside the terminal, which hides
    the prompt for the code; globus-cli makes the same check.
    """
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
