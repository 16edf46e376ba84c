"""Emulated endpoints (collections): an id mapped to a local directory, kept in a JSON file.

The file (`<home>/endpoints.json`, `{"<id>": {"path": "...", "display_name": "..."}}`) is the
configuration: it can be written by hand or by `watcher sim globus endpoint add|remove`
before the emulator starts, and the admin API rewrites it when one changes at run time.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: its id, the local directory its paths live in, a display name."""

    id: str
    path: str
    display_name: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class EndpointRegistry:
    """The endpoints of one emulator home; `add` persists at once."""

    def __init__(self, config_file: Path | None) -> None:
        self._file = config_file
        self._endpoints: dict[str, Endpoint] = {}
        if config_file is not None and config_file.exists():
            self._endpoints = load_endpoints(config_file)

    def add(self, path: Path | str, endpoint_id: str | None = None,
            display_name: str | None = None) -> Endpoint:
        endpoint_id = str(uuid.UUID(endpoint_id)) if endpoint_id else str(uuid.uuid4())
        root = Path(path).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        endpoint = Endpoint(endpoint_id, str(root), display_name or f"emulated {root.name}")
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
        return self._endpoints.get(endpoint_id)

    def display_name(self, endpoint_id: str) -> str:
        endpoint = self._endpoints.get(endpoint_id)
        return endpoint.display_name if endpoint else endpoint_id

    def all(self) -> list[Endpoint]:
        return list(self._endpoints.values())


def load_endpoints(config_file: Path) -> dict[str, Endpoint]:
    raw = json.loads(config_file.read_text() or "{}")
    return {
        str(uuid.UUID(key)): Endpoint(str(uuid.UUID(key)), value["path"],
                                      value.get("display_name") or f"emulated {key[:8]}")
        for key, value in raw.items()
    }


def save_endpoints(config_file: Path, endpoints: dict[str, Endpoint]) -> None:
    data = {key: {"path": ep.path, "display_name": ep.display_name}
            for key, ep in endpoints.items()}
    write_json_atomic(config_file, data)


def write_json_atomic(target: Path, data: object) -> None:
    """Write JSON next to `target` and rename it over, so a crash never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, target)


def endpoint_as_dict(endpoint: Endpoint) -> dict[str, str]:
    return asdict(endpoint)
