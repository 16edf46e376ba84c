"""Globus errors as the watcher sorts them: dead credentials, passing faults, the rest.

Pure: no I/O. A dead refresh token is told by the body (`{"error": "invalid_grant"}`), not by
`.code`: globus-sdk 4 leaves `.code` None for OAuth error bodies.
"""

from __future__ import annotations

import globus_sdk

# Statuses worth asking again later (the SDK already retried them within the call).
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class CredentialsExpired(Exception):
    """The stored Globus refresh token is dead or missing: only `watcher login` can help.

    Raised before any network request while the tokens stay unchanged, so nothing keeps asking
    Auth with a token it already refused. Actions should treat it as "retry after login".
    """


def is_invalid_grant(exc: BaseException) -> bool:
    """Whether Auth refused a refresh token (revoked, expired, rotated away)."""
    if not isinstance(exc, globus_sdk.AuthAPIError) or exc.http_status not in (400, 401):
        return False
    body = exc.raw_json
    return isinstance(body, dict) and body.get("error") == "invalid_grant"


def is_transient(exc: BaseException) -> bool:
    """A network failure or an overloaded/failing service: unknown now, maybe fine later."""
    if isinstance(exc, globus_sdk.NetworkError):
        return True
    return isinstance(exc, globus_sdk.GlobusAPIError) and exc.http_status in TRANSIENT_STATUSES


def describe(exc: BaseException) -> str:
    """One line for logs and `watcher status`: status, code, message, request id."""
    if isinstance(exc, globus_sdk.GlobusAPIError):
        parts = [f"HTTP {exc.http_status}", exc.code or _oauth_error(exc), exc.message]
        text = ": ".join(str(part) for part in parts if part)
        return f"{text} (request {exc.request_id})" if exc.request_id else text
    return f"{type(exc).__name__}: {exc}"


def _oauth_error(exc: globus_sdk.GlobusAPIError) -> str | None:
    body = exc.raw_json
    return body.get("error") if isinstance(body, dict) else None
