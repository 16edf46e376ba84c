"""The HTTP face's secret, Jupyter's way: a random token made at the first start and kept 0600
under the data directory, sent as `Authorization: Bearer`; for a browser, a one-time link
(`/?token=...`) that sets a session cookie.

The cookie and the page's CSRF value are HMACs of the token, not the token: neither can be
turned back into a bearer token, and a new token file (delete it, restart) ends every session.
The one-time link carries a nonce, not the token, so the line that prints it at start gives
away nothing once it has been used; `/?token=<the token>` works too, for a user who has the
file and no link.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from watcher.private import FILE_MODE, NotPrivate, private_dir, refuse_shared

COOKIE = "watcher_session"
CSRF_HEADER = "x-csrf-token"


def load_or_create(path: Path) -> str:
    """The token in `path`, made (0600, whatever the umask) if there is none yet."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        refuse_shared(path)  # a token file others can write is someone else's token
        mode = path.stat().st_mode
        if mode & 0o077:  # ... and one they can read is theirs too
            raise NotPrivate(f"{path} can be read by other users (mode "
                             f"{stat.filemode(mode)}); make it yours alone with: chmod 600 "
                             f"{path}") from None
        token = path.read_text().strip()
        if len(token) < 32:
            raise ValueError(f"{path} holds no token (delete it: a new one is made at start)"
                             ) from None
        return token
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token


class Tokens:
    """Checks requests' credentials against the token; hands out one-time login links."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.cookie_value = self._derive("cookie")
        self.csrf = self._derive("csrf")
        self._links: set[str] = set()

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._token.encode(), f"watcher-http-{purpose}".encode(),
                        hashlib.sha256).hexdigest()

    def bearer_ok(self, authorization: str | None) -> bool:
        """Whether the Authorization header is `Bearer <the token>` (compared in constant time)."""
        scheme, _, value = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and _same(value.strip(), self._token)

    def cookie_ok(self, value: str | None) -> bool:
        """Whether the session cookie carries the token (compared in constant time)."""
        return value is not None and _same(value, self.cookie_value)

    def csrf_ok(self, value: str | None) -> bool:
        """Whether the form or header carries this server's CSRF token (in constant time)."""
        return value is not None and _same(value, self.csrf)

    def new_link(self) -> str:
        """A nonce for one `/?token=` login."""
        nonce = secrets.token_urlsafe(24)
        self._links.add(nonce)
        return nonce

    def log_in(self, given: str) -> bool:
        """Whether `given` (from `/?token=`) is the token or an unused link; a link is used up."""
        for nonce in list(self._links):
            if _same(given, nonce):
                self._links.discard(nonce)
                return True
        return _same(given, self._token)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
