"""Emulated endpoints (collections): an id mapped to a local directory, kept in a JSON file.

The file (`<home>/endpoints.json`, `{"<id>": {"path": "...", "display_name": "..."}}`) is the
configuration: it can be written by hand or by `watcher sim globus endpoint add|remove`
before the emulator starts, and the admin API rewrites it when one changes at run time.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Transfer's `entity_type` values (globus-cli's EntityType), by the short names the CLI takes.
ENTITY_TYPES = {
    "mapped": "GCSv5_mapped_collection", "guest": "GCSv5_guest_collection",
    "gcsv5-endpoint": "GCSv5_endpoint", "gcp": "GCP_mapped_collection",
    "gcp-guest": "GCP_guest_collection", "gcsv4": "GCSv4_host", "gcsv4-share": "GCSv4_share",
}
MAPPED = ENTITY_TYPES["mapped"]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint or collection: its id, the local directory its paths live in, a display
    name, its kind (`entity_type`), and whether it demands a `data_access` consent (only a
    non-high-assurance GCSv5 mapped collection can; globus-sdk asks for none elsewhere)."""

    id: str
    path: str
    display_name: str
    entity_type: str = MAPPED
    requires_consent: bool = False
    high_assurance: bool = False
    host_endpoint_id: str | None = None  # a guest collection's mapped collection
    # A high-assurance collection asks for a fresh login this long after the last one.
    authentication_timeout_mins: int | None = None

    @property
    def is_collection(self) -> bool:
        """Whether transfers can use it (a GCSv5 endpoint is only the server's record)."""
        return self.entity_type != "GCSv5_endpoint"

    @property
    def root(self) -> Path:
        """The local directory the endpoint's "/" maps to."""
        return Path(self.path)


class EndpointRegistry:
    """The endpoints of one emulator home; `add` persists at once."""

    def __init__(self, config_file: Path | None) -> None:
        self._file = config_file
        self._endpoints: dict[str, Endpoint] = {}
        if config_file is not None and config_file.exists():
            self._endpoints = load_endpoints(config_file)

    def add(self, path: Path | str, endpoint_id: str | None = None,
            display_name: str | None = None, **kind: Any) -> Endpoint:
        """Add (or replace) one; `kind` takes Endpoint's `entity_type`, `requires_consent`,
        `high_assurance`, `host_endpoint_id`."""
        endpoint_id = str(uuid.UUID(endpoint_id)) if endpoint_id else str(uuid.uuid4())
        root = Path(path).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        endpoint = Endpoint(endpoint_id, str(root), display_name or f"emulated {root.name}",
                            **_kind(kind))
        self._endpoints[endpoint_id] = endpoint
        if self._file is not None:
            save_endpoints(self._file, self._endpoints)
        return endpoint

    def remove(self, endpoint_id: str) -> bool:
        """Forget an endpoint (persisted at once); False if there was none with that id."""
        try:
            key = str(uuid.UUID(endpoint_id))
        except ValueError:
            return False
        if self._endpoints.pop(key, None) is None:
            return False
        if self._file is not None:
            save_endpoints(self._file, self._endpoints)
        return True

    def get(self, endpoint_id: str) -> Endpoint | None:
        """The endpoint with this id, or None."""
        return self._endpoints.get(endpoint_id)

    def display_name(self, endpoint_id: str) -> str:
        """The endpoint's display name, or its id when unknown (a removed endpoint's tasks)."""
        endpoint = self._endpoints.get(endpoint_id)
        return endpoint.display_name if endpoint else endpoint_id

    def all(self) -> list[Endpoint]:
        """Every endpoint, in the order they were added."""
        return list(self._endpoints.values())


_KIND_FIELDS = ("entity_type", "requires_consent", "high_assurance", "host_endpoint_id",
                "authentication_timeout_mins")


def _kind(raw: dict[str, Any]) -> dict[str, Any]:
    kind = {name: raw[name] for name in _KIND_FIELDS if raw.get(name) is not None}
    unknown = set(raw) - set(_KIND_FIELDS)
    if unknown:
        raise ValueError(f"unknown endpoint field(s): {', '.join(sorted(unknown))}")
    entity = kind.get("entity_type", MAPPED)
    kind["entity_type"] = ENTITY_TYPES.get(entity, entity)
    if kind["entity_type"] not in ENTITY_TYPES.values():
        raise ValueError(f"entity_type must be one of {', '.join(ENTITY_TYPES)}")
    if kind.get("requires_consent") and (kind["entity_type"] != MAPPED
                                         or kind.get("high_assurance")):
        raise ValueError("only a non-high-assurance GCSv5 mapped collection takes a "
                         "data_access consent")
    return kind


def load_endpoints(config_file: Path) -> dict[str, Endpoint]:
    """The endpoints of the config file, keyed by normalized UUID."""
    raw = json.loads(config_file.read_text() or "{}")
    return {
        str(uuid.UUID(key)): Endpoint(str(uuid.UUID(key)), value["path"],
                                      value.get("display_name") or f"emulated {key[:8]}",
                                      **_kind({k: value.get(k) for k in _KIND_FIELDS}))
        for key, value in raw.items()
    }


def save_endpoints(config_file: Path, endpoints: dict[str, Endpoint]) -> None:
    """Write the endpoints back atomically, in `load_endpoints`' form."""
    data = {key: {"path": ep.path, "display_name": ep.display_name,
                  **{name: getattr(ep, name) for name in _KIND_FIELDS}}
            for key, ep in endpoints.items()}
    write_json_atomic(config_file, data)


def write_json_atomic(target: Path, data: object) -> None:
    """Write JSON next to `target` and rename it over, so a crash never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, target)
