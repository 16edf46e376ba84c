"""The user's Globus tokens on disk: globus-sdk's `SQLiteTokenStorage`, readable by the user only.

SQLite because two processes write this file: the daemon (each refresh rotates the refresh
token, and the new one must be saved before the old one is forgotten) and `watcher login`.
Each operation opens the storage briefly instead of holding a connection, so any thread may
call it (the SDK refreshes in whichever worker thread made the request) and a change written
by another process is seen at the next read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import globus_sdk
from globus_sdk.token_storage import SQLiteTokenStorage, TokenStorageData

from watcher.private import private_dir

TRANSFER_RS = "transfer.api.globus.org"
_USER_ONLY = 0o600


class TokenFile:
    """One token database (`globus.token_db`); `namespace` separates several users or apps."""

    def __init__(self, path: Path, namespace: str = "DEFAULT") -> None:
        self.path = Path(path)
        self.namespace = namespace

    def exists(self) -> bool:
        """Whether a token file is present; says nothing of whether its tokens still work."""
        return self.path.exists()

    def transfer_tokens(self) -> TokenStorageData | None:
        """The Transfer tokens stored now, or None (never logged in, or a file without them)."""
        if not self.exists():
            return None
        with self._storage() as storage:
            return storage.get_token_data(TRANSFER_RS)

    def all_tokens(self) -> dict[str, TokenStorageData]:
        """Every resource server's tokens stored now (none without a file)."""
        if not self.exists():
            return {}
        with self._storage() as storage:
            return dict(storage.get_token_data_by_resource_server())

    def delete(self) -> bool:
        """Remove the token file (and SQLite's journals); False if there was none."""
        existed = self.exists()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return existed

    def store(self, response: globus_sdk.OAuthTokenResponse) -> None:
        """Save a login's or a refresh's tokens; an identity already known is kept (a refresh
        answer does not say whose tokens they are)."""
        with self._storage() as storage:
            known = storage.get_token_data_by_resource_server()
            storage.store_token_response(response)
            for server, data in storage.get_token_data_by_resource_server().items():
                old = known.get(server)
                if data.identity_id is None and old is not None and old.identity_id:
                    data.identity_id = old.identity_id
                    storage.store_token_data_by_resource_server({server: data})

    def store_data(self, data: TokenStorageData) -> None:
        """Save token data as it is (tokens obtained outside a login flow)."""
        with self._storage() as storage:
            storage.store_token_data_by_resource_server({data.resource_server: data})

    @contextmanager
    def _storage(self) -> Iterator[SQLiteTokenStorage]:
        private_dir(self.path.parent)  # the SDK creates the file 0600 (tables only if new)
        storage = SQLiteTokenStorage(self.path, namespace=self.namespace)
        try:
            # The SDK sets 0600 only when it creates the file: tighten one made otherwise.
            if os.stat(self.path).st_mode & 0o777 != _USER_ONLY:
                os.chmod(self.path, _USER_ONLY)
            yield storage
        finally:
            storage.close()
