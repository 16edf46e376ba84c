"""Endpoint health: one `get_endpoint` per endpoint, read as "inactive" / "consent required".

GCSv4 activation is gone; what makes transfers stop today is a user's consent or credentials
for a collection. The endpoint document still says `activated: false` (and `expires_in: 0`)
when the user's credentials for it expired, and Transfer answers `ConsentRequired` (403) when
a data_access consent is missing. Both are what the user must fix by hand, so both are events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import globus_sdk

from watcher.globus.errors import is_transient

Probe = tuple[Literal["ok", "missing", "unreadable"], dict[str, Any] | None]


def endpoint_attributes(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of an endpoint document the user could read."""
    inactive = doc.get("activated") is False or doc.get("expires_in") == 0
    return {"id": doc.get("id"), "display_name": doc.get("display_name"),
            "inactive": inactive, "consent_required": False, "required_scopes": []}


def consent_attributes(endpoint_id: str, exc: globus_sdk.GlobusAPIError) -> dict[str, Any]:
    """What a `ConsentRequired` answer tells: the endpoint needs the user's consent first.

    Whether it is also inactive is unknown (the document was not sent): None."""
    scopes = list(exc.info.consent_required.required_scopes or [])
    return {"id": endpoint_id, "display_name": None, "inactive": None,
            "consent_required": True, "required_scopes": scopes}


def is_consent_required(exc: globus_sdk.GlobusAPIError) -> bool:
    return exc.code == "ConsentRequired" or bool(exc.info.consent_required)


def probe_endpoint(client: globus_sdk.TransferClient, endpoint_id: str) -> Probe:
    """Ask about one endpoint. Passing faults (429, 5xx, network) are raised: the whole probe
    is then unknown. A 404 is "missing"; another refusal (403 ...) leaves it "unreadable"."""
    try:
        doc = client.get_endpoint(endpoint_id)
    except globus_sdk.TransferAPIError as exc:  # Auth's errors (a refresh) fail the probe
        if is_transient(exc):
            raise
        if is_consent_required(exc):
            return "ok", consent_attributes(endpoint_id, exc)
        return ("missing" if exc.http_status == 404 else "unreadable"), None
    return "ok", endpoint_attributes(doc.data)
