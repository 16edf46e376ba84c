"""What watcher knows about its Globus login, kept next to the tokens, in the same file.

The token storage says what the tokens are, not whose they are, when they were granted, which
app got them or when they were last used: `watcher status` needs all four, and the daemon must
refresh with the client that logged in (`watcher login --client-id X` without a config change).
A small table of our own in the token database holds them, one row per key, so the daemon
noting a refresh and `watcher login` recording a new login never overwrite each other.
Nothing secret is stored here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_TABLE = "watcher_login"
_LOGIN, _USED = "login", "last_refresh"


@dataclass(frozen=True)
class LoginInfo:
    """One login: who, with which app, when, and the collections whose consent it asked for."""

    client_id: str
    logged_in_at: datetime
    username: str | None = None
    identity_id: str | None = None
    collections: list[str] = field(default_factory=list)
    last_refresh_at: datetime | None = None

    def to_json(self) -> str:
        """The stored form, without `last_refresh_at` (each refresh stores that apart)."""
        data = asdict(self)
        data["logged_in_at"] = self.logged_in_at.isoformat()
        data.pop("last_refresh_at")
        return json.dumps(data)

    @property
    def last_used_at(self) -> datetime:
        """When Globus last saw the refresh token: its unused lifetime counts from here."""
        return self.last_refresh_at or self.logged_in_at


def record_login(path: Path, info: LoginInfo) -> None:
    """Save a new login (its refresh token was just issued: used now)."""
    with _db(path) as db:
        db.execute(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?)", (_LOGIN, info.to_json()))
        db.execute(f"DELETE FROM {_TABLE} WHERE key = ?", (_USED,))


def note_refresh(path: Path, at: datetime) -> None:
    """The daemon used the refresh token at `at`."""
    with _db(path) as db:
        db.execute(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?)", (_USED, at.isoformat()))


def read_login(path: Path) -> LoginInfo | None:
    """The recorded login, or None (no token file, or tokens stored some other way)."""
    if not path.exists():
        return None
    with _db(path) as db:
        rows = dict(db.execute(f"SELECT key, value FROM {_TABLE}").fetchall())
    if _LOGIN not in rows:
        return None
    data: dict[str, Any] = json.loads(rows[_LOGIN])
    used = rows.get(_USED)
    return LoginInfo(client_id=data["client_id"],
                     logged_in_at=_utc(datetime.fromisoformat(data["logged_in_at"])),
                     username=data.get("username"), identity_id=data.get("identity_id"),
                     collections=list(data.get("collections") or []),
                     last_refresh_at=_utc(datetime.fromisoformat(used)) if used else None)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=10)) as db, db:
        db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
        yield db
