"""Endpoint health: one `get_endpoint` per endpoint, read as "inactive" / "consent required".

GCSv4 activation is gone; what makes transfers stop today is a user's consent or credentials
for a collection. The endpoint document still says `activated: false` (and `expires_in: 0`)
when the user's credentials for it expired, and Transfer answers `ConsentRequired` (403) when
a data_access consent is missing. Both are what the user must fix by hand, so both are events.

Reading the document needs no data_access consent, so a non-high-assurance GCSv5 mapped
collection (the only kind that takes one: globus-sdk's and globus-cli's own test) is also
asked one cheap `operation_ls(limit=1)`, which answers `ConsentRequired` when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import globus_sdk

from watcher.globus.consents import (
    collections_in,
    consent_command,
    is_consent_required,
    required_scopes,
)
from watcher.globus.errors import is_transient, json_object

Probe = tuple[Literal["ok", "missing", "unreadable"], dict[str, Any] | None]


MAPPED = "GCSv5_mapped_collection"


def endpoint_attributes(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of an endpoint document the user could read. `high_assurance` and
    `authentication_timeout_mins` (None where the document has none) say when a login stops
    counting for it: `/metrics` tells how long that is without asking Globus again."""
    inactive = doc.get("activated") is False or doc.get("expires_in") == 0
    timeout = doc.get("authentication_timeout_mins")
    return {"id": doc.get("id"), "display_name": doc.get("display_name"),
            "entity_type": doc.get("entity_type"), "inactive": inactive,
            "consent_required": False, "required_scopes": [], "login_command": None,
            "high_assurance": doc.get("high_assurance") is True,
            "authentication_timeout_mins": timeout if isinstance(timeout, int) else None}


def consent_attributes(endpoint_id: str, exc: globus_sdk.GlobusAPIError,
                       keep: Sequence[str] = ()) -> dict[str, Any]:
    """What a `ConsentRequired` answer tells: the endpoint needs the user's consent first,
    and the command that gives it (keeping the consents the login has).

    Whether it is also inactive is unknown (the document was not sent): None."""
    scopes = required_scopes(exc)
    missing = collections_in(scopes) or [endpoint_id]
    return {"id": endpoint_id, "display_name": None, "entity_type": None, "inactive": None,
            "consent_required": True, "required_scopes": scopes,
            "login_command": consent_command(missing, keep)}


def takes_data_access(doc: Mapping[str, Any]) -> bool:
    """Whether a data_access consent applies (globus-sdk `_uses_data_access`)."""
    return doc.get("entity_type") == MAPPED and doc.get("high_assurance") is not True


def probe_endpoint(client: globus_sdk.TransferClient, endpoint_id: str,
                   keep: Sequence[str] = ()) -> tuple[Probe, int]:
    """Ask about one endpoint; returns the probe and the requests it took. Passing faults
    (429, 5xx, network) are raised: the whole probe is then unknown. A 404 is "missing";
    another refusal (403 ...) leaves it "unreadable"."""
    try:
        doc = client.get_endpoint(endpoint_id)
    except globus_sdk.TransferAPIError as exc:  # Auth's errors (a refresh) fail the probe
        if is_transient(exc):
            raise
        if is_consent_required(exc):
            return ("ok", consent_attributes(endpoint_id, exc, keep)), 1
        return ("missing" if exc.http_status == 404 else "unreadable", None), 1
    data = json_object(doc, "get_endpoint")
    attrs = endpoint_attributes(data)
    if not takes_data_access(data):
        return ("ok", attrs), 1
    try:
        client.operation_ls(endpoint_id, path=data.get("default_directory") or "/~/", limit=1)
    except globus_sdk.TransferAPIError as exc:
        if is_transient(exc):
            raise
        if is_consent_required(exc):  # the document was read: keep what it says
            attrs = {**consent_attributes(endpoint_id, exc, keep),
                     "display_name": attrs["display_name"],
                     "entity_type": attrs["entity_type"], "inactive": attrs["inactive"]}
    return ("ok", attrs), 2
