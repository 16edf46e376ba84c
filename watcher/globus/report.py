"""What `watcher status` says about the Globus login: whose, how old, last used, what is missing.

Measured: the login time and identity (recorded by `watcher login`), the last refresh (noted
by the service each time it used the refresh token), the access token's expiry (in the token
file), whether Globus refused the refresh token (the service's credentials fact) and the
collections known to lack consent (endpoint probes, consent checks). Estimated: when the
refresh token lapses if left unused, from Globus's documented policy of about six months.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from watcher.globus.consents import consent_command, missing_consents
from watcher.globus.credentials_fact import stored_state
from watcher.globus.login_info import read_login
from watcher.globus.settings import GlobusSettings
from watcher.globus.tokens import TokenFile

# Globus: a refresh token is good until revoked or about six months without use (estimated).
REFRESH_UNUSED_LIFETIME = timedelta(days=180)
PAUSED = "paused: run `watcher login`"


def credential_row(settings: GlobusSettings, session: Session | None,
                   now: datetime) -> dict[str, Any]:
    """One row: the state first, then who, when, and what to run."""
    tokens = TokenFile(settings.token_db)
    row: dict[str, Any] = {"state": "ok", "logged_in_as": None, "token_file": str(tokens.path),
                           "logged_in_at": None, "token_age": None, "last_used_at": None,
                           "refresh_token_lapses_at": None, "access_token_expires_at": None,
                           "missing_consents": [], "reason": None, "to_do": None}
    if not settings.enabled:
        return {**row, "state": "off (globus.enabled is false)"}
    if not tokens.exists():
        return {**row, "state": "not logged in", "to_do": "watcher login"}
    try:
        info, stored = read_login(tokens.path), tokens.transfer_tokens()
    except (OSError, sqlite3.Error, ValueError) as exc:
        return {**row, "state": "unreadable", "reason": str(exc), "to_do": "watcher login"}
    if info is not None:
        row.update(logged_in_as=info.username or info.identity_id,
                   logged_in_at=info.logged_in_at, token_age=_age(now - info.logged_in_at),
                   last_used_at=info.last_used_at,
                   refresh_token_lapses_at=info.last_used_at + REFRESH_UNUSED_LIFETIME)
    if stored is None or not stored.refresh_token:
        return {**row, "state": "not logged in", "to_do": "watcher login"}
    row["access_token_expires_at"] = datetime.fromtimestamp(stored.expires_at_seconds, UTC)
    if session is not None:
        expired, reason = stored_state(session)
        if expired:
            row.update(state=PAUSED, reason=reason, to_do="watcher login")
        missing = missing_consents(session, info.logged_in_at if info else None)
        if missing:
            row["missing_consents"] = missing
            row["to_do"] = row["to_do"] or consent_command(
                missing, info.collections if info else ())
    return row


def paused(session: Session | None) -> tuple[bool, str | None]:
    """Whether the service paused Globus work for dead credentials, and why."""
    return stored_state(session) if session is not None else (False, None)


def _age(span: timedelta) -> str:
    days, seconds = span.days, span.seconds
    if days:
        return f"{days}d {seconds // 3600}h"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"




