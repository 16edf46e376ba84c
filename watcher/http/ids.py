"""Ids from a URL are checked before they reach the store: a path-traversal or a 10,000-
character id is a 400 with a clear message, never a query."""

from __future__ import annotations

import re

from watcher.http.errors import ApiError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def checked(value: str, what: str, example: str) -> str:
    """`value` if shaped like an id, else ApiError 400 quoting at most 40 of its characters."""
    if not _ID.match(value) or ".." in value:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ApiError(400, "invalid_id", f"'{shown}' is not a {what} id (like {example})")
    return value
