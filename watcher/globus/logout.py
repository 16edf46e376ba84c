"""`watcher logout`: revoke the stored Globus tokens at Auth, then delete them.

Revoking is what makes a copied token file useless; deleting is what a running watcher sees
(it pauses Globus work at its next poll, as when no one logged in). A token Auth cannot be
reached to revoke is still deleted here, and the user is told where to revoke the grant by
hand, so a failed network never leaves tokens behind on disk.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import globus_sdk
from globus_sdk.transport import RetryConfig

from watcher.globus.errors import describe, is_transient
from watcher.globus.login_info import read_login
from watcher.globus.tokens import TokenFile

CONSENTS_PAGE = "https://app.globus.org/account/consents"


@dataclass
class LogoutResult:
    """What happened: tokens revoked, those that could not be, and whether a file was removed."""

    revoked: int = 0
    failures: list[str] = field(default_factory=list)
    deleted: bool = False


def log_out(tokens: TokenFile, client_id: str) -> LogoutResult:
    """Revoke every stored token with the app that logged in, then delete the file."""
    result = LogoutResult()
    try:
        info = read_login(tokens.path)
        stored = tokens.all_tokens()
    except (OSError, sqlite3.Error, ValueError) as exc:
        result.failures.append(f"cannot read {tokens.path}: {exc}")
        info, stored = None, {}
    auth = globus_sdk.NativeAppAuthClient(info.client_id if info else client_id,
                                          retry_config=RetryConfig(max_retries=2))
    pending = [(f"{server} {kind} token", value) for server, data in sorted(stored.items())
               for kind, value in (("refresh", data.refresh_token),
                                   ("access", data.access_token)) if value]
    for number, (what, value) in enumerate(pending):
        try:
            auth.oauth2_revoke_token(value)
        except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError) as exc:
            result.failures.append(f"{what}: {describe(exc)}")
            if is_transient(exc):  # Auth is down: the others would only wait as long
                result.failures += [f"{rest} (not tried)" for rest, _ in pending[number + 1:]]
                break
        else:
            result.revoked += 1
    result.deleted = tokens.delete()
    return result
