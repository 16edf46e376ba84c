"""Rule names a user's files may not take: those of the shipped staging rules.

The service loads `watcher/workflows/staging.yaml` next to the user's rules, and two rules of
one name would share their edge states in the store, so a user rule named like one of them would be
left out of force. `watcher rules check` refuses it instead, with the reason. The staging file
itself (wherever a copy of it is checked from: same content) is of course allowed its names.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import yaml

STAGING_FILE = Path(__file__).parent.parent / "workflows" / "staging.yaml"


@cache
def _staging() -> tuple[frozenset[str], str]:
    content = STAGING_FILE.read_bytes()
    data = yaml.safe_load(content) or {}
    names = frozenset(rule["name"] for rule in data.get("rules") or [] if "name" in rule)
    return names, hashlib.sha256(content).hexdigest()


def is_shipped(file_sha256: str) -> bool:
    """Whether a file is the shipped staging file itself (its tests check it in depth)."""
    return file_sha256 == _staging()[1]


def reserved_names(file_sha256: str) -> frozenset[str]:
    """The names a file with this content may not define (none for the staging file)."""
    names, digest = _staging()
    return frozenset() if file_sha256 == digest else names


def reserved_reason(name: str) -> str:
    """Why `name` is refused."""
    return (f"rule name '{name}' is reserved: a shipped staging rule ({STAGING_FILE.name}) has "
            "it, and a user rule of that name would not be in force (rename it)")
