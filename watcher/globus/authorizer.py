"""The daemon's Globus authorizer: the stored tokens, refreshed and persisted, never a login.

It wraps globus-sdk's `RefreshTokenAuthorizer` (which refreshes 60 s before the access token
expires) and adds what a long-running service needs:

- every refresh is persisted (`on_refresh`): Auth rotates refresh tokens, and a restart with
  the old one would find it dead; its time is noted too (the refresh token's last use, from
  which its unused lifetime counts, for `watcher status` and `watcher stage submit`);
- it refreshes with the native app that logged in (recorded by `watcher login`), falling back
  to `globus.client_id`: Auth refuses a refresh token presented by another client;
- a login stored while it runs (`watcher login --collection X` adds a consent) is adopted at
  the next request: the file's mtime is checked on each, and a different refresh token
  replaces the one in memory;
- one lock around header generation, so two threads never refresh with the same rotating
  token (the second would be refused and look like dead credentials);
- a refused refresh token (`invalid_grant`) is first checked against the storage (another
  process may have rotated it: adopt the stored one), and otherwise marks the credentials
  expired: from then on `CredentialsExpired` is raised at once, without asking Auth again,
  until the storage holds a different refresh token (`watcher login` ran).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, datetime

import globus_sdk
from globus_sdk.authorizers import GlobusAuthorizer

from watcher.globus.errors import CredentialsExpired, describe, is_invalid_grant
from watcher.globus.login_info import note_refresh, read_login
from watcher.globus.tokens import TRANSFER_RS, TokenFile

log = logging.getLogger(__name__)
LOGIN_HINT = "run `watcher login`"


class StoredTokenAuthorizer(GlobusAuthorizer):
    """Authorizes Transfer requests with the tokens in `tokens`, for the native app `client_id`."""

    def __init__(self, tokens: TokenFile, client_id: str) -> None:
        self.tokens = tokens
        self.client_id = client_id
        self._lock = threading.RLock()
        self._inner: globus_sdk.RefreshTokenAuthorizer | None = None
        self._dead: str | None = None  # the refresh token Auth refused
        self._mtime: float | None = None  # of the token file when last read
        self.expired_reason: str | None = None

    @property
    def expired(self) -> bool:
        """Whether Auth refused the stored refresh token and no new one was stored since."""
        return self._dead is not None

    def check(self) -> None:
        """Raise `CredentialsExpired` unless usable tokens are at hand. Reads the storage only
        (no network), so a paused source may call it every cycle."""
        with self._lock:
            self._ensure()

    def get_authorization_header(self) -> str:
        """The header for a request; on an invalid grant, adopts a token another process stored."""
        with self._lock:
            for _ in range(2):  # the stored token, then one adopted from another process
                inner = self._ensure()
                try:
                    return inner.get_authorization_header()
                except globus_sdk.AuthAPIError as exc:
                    if not is_invalid_grant(exc):
                        raise
                    self._die(inner.refresh_token, describe(exc))
                    cause = exc
            raise CredentialsExpired(self.expired_reason) from cause

    def handle_missing_authorization(self) -> bool:
        """The SDK calls it on a 401: True when it refreshed, so the request may be retried."""
        with self._lock:
            return self._inner is not None and self._inner.handle_missing_authorization()

    def _ensure(self) -> globus_sdk.RefreshTokenAuthorizer:
        if self._inner is not None and self._dead is None and not self._file_changed():
            return self._inner
        try:
            self._mtime = self._stat()
            stored = self.tokens.transfer_tokens()
        except (OSError, sqlite3.Error) as exc:  # unreadable: as good as no tokens
            raise CredentialsExpired(
                f"cannot read Globus tokens from {self.tokens.path} ({exc}): {LOGIN_HINT}"
            ) from exc
        if stored is None or not stored.refresh_token:
            raise CredentialsExpired(
                f"no Globus refresh token in {self.tokens.path}: {LOGIN_HINT}")
        if stored.refresh_token == self._dead:
            raise CredentialsExpired(self.expired_reason)
        if (self._inner is not None and self._dead is None
                and stored.refresh_token == self._inner.refresh_token):
            return self._inner  # our own refresh was saved: nothing new
        if self._inner is not None and self._dead is None:
            log.info("new Globus tokens found in %s: using them", self.tokens.path)
        if self._dead is not None:
            log.info("new Globus tokens found in %s: Globus work resumes", self.tokens.path)
        self._dead = self.expired_reason = None
        self._inner = globus_sdk.RefreshTokenAuthorizer(
            stored.refresh_token, globus_sdk.NativeAppAuthClient(self._login_client()),
            access_token=stored.access_token, expires_at=stored.expires_at_seconds,
            on_refresh=self._persist)
        return self._inner

    def _stat(self) -> float | None:
        try:
            return self.tokens.path.stat().st_mtime
        except OSError:
            return None

    def _file_changed(self) -> bool:
        return self._stat() != self._mtime

    def _login_client(self) -> str:
        try:
            info = read_login(self.tokens.path)
        except (OSError, sqlite3.Error, ValueError, KeyError):
            info = None
        return info.client_id if info is not None else self.client_id

    def _die(self, refresh_token: str, why: str) -> None:
        self._dead = refresh_token
        self.expired_reason = (f"Globus refused the stored refresh token ({why}): Globus work "
                               f"is paused; {LOGIN_HINT}")
        log.warning("%s", self.expired_reason)

    def _persist(self, response: globus_sdk.OAuthTokenResponse) -> None:
        """Save refreshed tokens at once: the old refresh token may already be dead."""
        try:
            self.tokens.store(response)
            note_refresh(self.tokens.path, datetime.now(UTC))
        except (OSError, sqlite3.Error) as exc:  # keep working on the in-memory token
            log.error("could not save refreshed Globus tokens to %s: %s (a restart will need "
                      "`watcher login`)", self.tokens.path, exc)
        else:
            log.debug("saved refreshed Globus tokens for %s",
                      ", ".join(response.by_resource_server) or TRANSFER_RS)
