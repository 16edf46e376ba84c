"""Globus errors as the watcher sorts them: dead credentials, passing faults, the rest.

Pure: no I/O. A dead refresh token is told by the body (`{"error": "invalid_grant"}`), not by
`.code`: globus-sdk 4 leaves `.code` None for OAuth error bodies.
"""

from __future__ import annotations

from typing import Any

import globus_sdk

# Statuses worth asking again later (the SDK already retried them within the call).
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class CredentialsExpired(Exception):
    """The stored Globus refresh token is dead or missing: only `watcher login` can help.

    Raised before any network request while the tokens stay unchanged, so nothing keeps asking
    Auth with a token it already refused. Actions should treat it as "retry after login".
    """


class MalformedAnswer(globus_sdk.GlobusError):
    """A 2xx answer that is not the JSON document asked for (a proxy's HTML page, a cut-off
    body, a list instead of an object). A GlobusError, so it fails a poll like any other, and
    passing: the next poll may get a real answer."""


def json_object(response: globus_sdk.GlobusHTTPResponse, what: str) -> dict[str, Any]:
    """The answer's JSON object, or MalformedAnswer saying what came instead of `what`."""
    data = response.data
    if isinstance(data, dict):
        return data
    got = "no JSON" if data is None else f"JSON {type(data).__name__}"
    ctype = response.headers.get("Content-Type", "no content type")
    raise MalformedAnswer(f"Globus answered {what} with {got} ({ctype}, "
                          f"HTTP {response.http_status}), not a JSON object")


def json_documents(response: globus_sdk.GlobusHTTPResponse, what: str
                   ) -> list[dict[str, Any]]:
    """The `DATA` list of a paged answer (task_list), each item a JSON object."""
    docs = json_object(response, what).get("DATA")
    if not isinstance(docs, list) or not all(isinstance(doc, dict) for doc in docs):
        raise MalformedAnswer(f"Globus answered {what} without a DATA list of objects")
    return docs


def is_invalid_grant(exc: BaseException) -> bool:
    """Whether Auth refused a refresh token (revoked, expired, rotated away)."""
    if not isinstance(exc, globus_sdk.AuthAPIError) or exc.http_status not in (400, 401):
        return False
    body = exc.raw_json
    return isinstance(body, dict) and body.get("error") == "invalid_grant"


def is_transient(exc: BaseException) -> bool:
    """A network failure or an overloaded/failing service: unknown now, maybe fine later."""
    if isinstance(exc, globus_sdk.NetworkError | MalformedAnswer):
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
