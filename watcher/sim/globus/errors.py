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
    return ApiError(400, code, message)


def consent_required(endpoint_ids: list[str]) -> ApiError:
    """Transfer's answer when the user's data_access consent for a collection is missing.

    globus-sdk reads `required_scopes` into `err.info.consent_required.required_scopes`.
    """
    scopes = [
        "urn:globus:auth:scope:transfer.api.globus.org:all"
        f"[*https://auth.globus.org/scopes/{endpoint_id}/data_access]"
        for endpoint_id in endpoint_ids
    ]
    return ApiError(403, "ConsentRequired", "Missing required data_access consent",
                    required_scopes=scopes)
