"""The one exception Transfer operations raise: the routes turn it into a Globus error body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Transfer error answer: HTTP status, Globus `code`, message, extra body fields."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def bad_request(message: str, code: str = "ClientError.BadRequest") -> ApiError:
    """A 400 with Globus's `ClientError.BadRequest` code (or a more exact one)."""
    return ApiError(400, code, message)


CONSENT_MESSAGE = "Missing required data_access consent"


def consent_required(endpoint_ids: list[str]) -> ApiError:
    """Transfer's answer when the user's data_access consent for a collection is missing.

    The body carries `required_scopes` at the top level and again in
    `authorization_parameters` (with the `session_message`), the shape Globus services send
    (globus-sdk's canned Timers payload has the same `authorization_parameters`): globus-sdk
    reads them as `err.info.consent_required.required_scopes` and
    `err.info.authorization_parameters`, globus-cli prints `globus session consent '<scope>'`.
    """
    scopes = [
        "urn:globus:auth:scope:transfer.api.globus.org:all"
        f"[*https://auth.globus.org/scopes/{endpoint_id}/data_access]"
        for endpoint_id in endpoint_ids
    ]
    return ApiError(403, "ConsentRequired", CONSENT_MESSAGE, required_scopes=scopes,
                    authorization_parameters={"session_message": CONSENT_MESSAGE,
                                              "required_scopes": scopes})
