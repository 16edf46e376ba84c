"""The native-app login flow (PKCE), run once by `watcher login`; the daemon never runs it.

It asks for refresh tokens (`access_type=offline`): a watcher waits for days, far beyond an
access token's life. The user opens the authorize URL in any browser (on their laptop when
the watcher runs on a login node), logs in, and pastes the code Globus shows.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass

import globus_sdk

from watcher.globus.tokens import TRANSFER_RS, TokenFile


class LoginError(Exception):
    """The login did not produce usable tokens; the message says why in one line."""


@dataclass
class LoginFlow:
    """A started flow: the URL to open, and the client that knows the PKCE verifier."""

    client: globus_sdk.NativeAppAuthClient
    url: str


def start_login(client_id: str) -> LoginFlow:
    """Start the flow for the Transfer scope, with refresh tokens."""
    client = globus_sdk.NativeAppAuthClient(client_id)
    client.oauth2_start_flow(
        requested_scopes=globus_sdk.TransferClient.scopes.all,
        refresh_tokens=True,
        # The name the user later sees in their Globus consents, to revoke it knowingly.
        prefill_named_grant=f"watcher on {socket.gethostname()}",
    )
    return LoginFlow(client, client.oauth2_get_authorize_url())


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
