"""Globus Auth's token logic: identities, authorization codes (PKCE), access and refresh tokens.

Token responses carry one token per resource server (the first at top level, the rest in
`other_tokens`) and never an `id_token`, so the SDK never fetches OIDC configuration or JWKS.
Refresh tokens rotate by default: a refresh returns a new refresh token and the old one dies,
which makes a client that forgets to persist `on_refresh` fail loudly on its next refresh.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from watcher.sim.globus.scopes import by_resource_server

DEFAULT_ACCESS_LIFETIME = 172800  # Globus's 48 hours


class OAuthError(Exception):
    """An OAuth error answer: `{"error": error}` with an HTTP status."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class Token:
    """One token the emulated Auth service issued: whose, for which resource server and scope,
    until when, and whether it was revoked."""

    value: str
    kind: str  # "access" or "refresh"
    identity_id: str
    client_id: str
    resource_server: str
    scope: str
    expires_at: float | None
    revoked: bool = False


def identity_doc(name: str) -> dict[str, Any]:
    """A stable identity for a user name (or a client id, which is its own identity)."""
    try:
        ident = str(uuid.UUID(name))
        username = f"{ident}@clients.auth.globus.org"
    except ValueError:
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"watcher-emulator:{name}"))
        username = name if "@" in name else f"{name}@emulator.globus.org"
    return {"id": ident, "username": username, "name": name, "email": f"{name}@example.org",
            "identity_provider": str(uuid.uuid5(uuid.NAMESPACE_URL, "watcher-emulator-idp")),
            "organization": "watcher emulator", "status": "used"}


class TokenStore:
    """All tokens and codes the emulated Auth service has issued."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.access_lifetime: float = DEFAULT_ACCESS_LIFETIME
        self.rotate_refresh_tokens = True
        self.identities: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.client_secrets: dict[str, str] = {}

    def identity(self, user: str) -> dict[str, Any]:
        """The identity document of `user`, made on first use (ids are stable per name)."""
        doc = identity_doc(user)
        return self.identities.setdefault(doc["id"], doc)

    def find_identity(self, user: str) -> dict[str, Any]:
        """By name, username or id; unknown names get their (deterministic) identity."""
        for doc in self.identities.values():
            if user in (doc["id"], doc["name"], doc["username"]):
                return doc
        return self.identity(user)

    def issue(self, identity_id: str, client_id: str, scope: str, *, refresh: bool,
              lifetime: float | None = None, extra: dict[str, Any] | None = None
              ) -> dict[str, Any]:
        """A token response with one token per resource server (the rest in `other_tokens`).
        Raises OAuthError("invalid_scope") when `scope` names none; `extra` adds fields.
        """
        groups = by_resource_server(scope)
        if not groups:
            raise OAuthError("invalid_scope")
        answers = []
        for rs, scopes in groups.items():
            answers.append(self._issue_one(identity_id, client_id, rs, " ".join(scopes),
                                           refresh, lifetime))
        first, *others = answers
        return {**first, **(extra or {}), "other_tokens": others}

    def _issue_one(self, identity_id: str, client_id: str, rs: str, scope: str, refresh: bool,
                   lifetime: float | None) -> dict[str, Any]:
        life = self.access_lifetime if lifetime is None else lifetime
        access = self._new("access", identity_id, client_id, rs, scope, self._clock() + life)
        answer = {"access_token": access.value, "expires_in": int(life), "resource_server": rs,
                  "scope": scope, "token_type": "Bearer"}
        if refresh:
            answer["refresh_token"] = self._new("refresh", identity_id, client_id, rs, scope,
                                                None).value
        return answer

    def _new(self, kind: str, identity_id: str, client_id: str, rs: str, scope: str,
             expires_at: float | None) -> Token:
        token = Token(f"emu{kind[0]}_{secrets.token_urlsafe(24)}", kind, identity_id,
                      client_id, rs, scope, expires_at)
        self.tokens[token.value] = token
        return token

    def authorize(self, identity_id: str, params: dict[str, str]) -> str:
        """Record an authorization code for the native-app flow (auto-approved)."""
        code = secrets.token_urlsafe(24)
        self.codes[code] = {**params, "identity_id": identity_id, "issued": self._clock()}
        return code

    def exchange_code(self, code: str, client_id: str, redirect_uri: str,
                      verifier: str | None) -> dict[str, Any]:
        """The authorization-code grant: a code is spent once; client, redirect, PKCE must match."""
        grant = self.codes.pop(code, None)
        if grant is None or grant.get("client_id") != client_id:
            raise OAuthError("invalid_grant")
        if grant.get("redirect_uri") and grant["redirect_uri"] != redirect_uri:
            raise OAuthError("invalid_grant")
        if grant.get("code_challenge") and not _pkce_ok(grant, verifier or ""):
            raise OAuthError("invalid_grant")
        offline = grant.get("access_type") == "offline"
        return self.issue(grant["identity_id"], client_id, grant.get("scope", ""),
                          refresh=offline, extra={"state": grant.get("state", "_default")})

    def refresh(self, value: str, client_id: str | None) -> dict[str, Any]:
        """The refresh grant; the refresh token rotates when `rotate_refresh_tokens` is on."""
        token = self.tokens.get(value)
        if token is None or token.kind != "refresh" or token.revoked:
            raise OAuthError("invalid_grant")
        if client_id and client_id != token.client_id:
            raise OAuthError("invalid_grant")
        answer = self._issue_one(token.identity_id, token.client_id, token.resource_server,
                                 token.scope, self.rotate_refresh_tokens, None)
        if self.rotate_refresh_tokens:
            token.revoked = True
        else:
            answer["refresh_token"] = value
        return {**answer, "other_tokens": []}

    def check_client(self, client_id: str, secret: str) -> None:
        """Any client id may log in; its first secret is remembered and required afterwards."""
        known = self.client_secrets.setdefault(client_id, secret)
        if not client_id or not secret or not secrets.compare_digest(known, secret):
            raise OAuthError("invalid_client", 401)

    def client_credentials(self, client_id: str, secret: str, scope: str) -> dict[str, Any]:
        """A confidential client acting as itself: its identity id is its client id."""
        self.check_client(client_id, secret)
        identity = self.identity(client_id)
        return self.issue(identity["id"], client_id, scope, refresh=False)

    def introspect(self, value: str) -> dict[str, Any]:
        """RFC 7662's answer: `{"active": False}` for an unknown, revoked or expired token."""
        token = self.tokens.get(value)
        live = token is not None and not token.revoked and (
            token.expires_at is None or token.expires_at > self._clock())
        if not live or token is None:
            return {"active": False}
        identity = self.identities.get(token.identity_id, {})
        return {"active": True, "scope": token.scope, "client_id": token.client_id,
                "sub": token.identity_id, "username": identity.get("username"),
                "name": identity.get("name"), "email": identity.get("email"),
                "aud": [token.resource_server], "iss": "https://auth.globus.org",
                "exp": int(token.expires_at) if token.expires_at else None,
                "token_type": "Bearer", "identity_set": [token.identity_id]}

    def valid(self, value: str, resource_server: str) -> Token | None:
        """The live access token for `resource_server`, else None (unknown, revoked, expired)."""
        token = self.tokens.get(value)
        if (token is None or token.kind != "access" or token.revoked
                or token.resource_server != resource_server):
            return None
        if token.expires_at is not None and token.expires_at <= self._clock():
            return None
        return token

    def revoke(self, value: str) -> None:
        """Revoke one token; an unknown value is ignored, as RFC 7009 asks."""
        if value in self.tokens:
            self.tokens[value].revoked = True

    def revoke_all(self, identity_id: str | None, kind: str) -> int:
        """Revoke every live token of `kind` (one identity's, or all for None); returns how many."""
        hits = [t for t in self.tokens.values()
                if t.kind == kind and not t.revoked and identity_id in (None, t.identity_id)]
        for token in hits:
            token.revoked = True
        return len(hits)

    def to_dict(self) -> dict[str, Any]:
        """The snapshot form; spent and expired tokens are left out."""
        return {"access_lifetime": self.access_lifetime,
                "rotate_refresh_tokens": self.rotate_refresh_tokens,
                "identities": self.identities, "client_secrets": self.client_secrets,
                "tokens": [asdict(t) for t in self.tokens.values() if self._keep(t)]}

    def _keep(self, token: Token) -> bool:
        """Dead tokens are not worth a snapshot: unknown and revoked answer the same."""
        alive = token.expires_at is None or token.expires_at > self._clock()
        return alive and not token.revoked

    def load(self, data: dict[str, Any]) -> None:
        """Restore from `to_dict`'s form, replacing what is held."""
        self.access_lifetime = data.get("access_lifetime", DEFAULT_ACCESS_LIFETIME)
        self.rotate_refresh_tokens = data.get("rotate_refresh_tokens", True)
        self.identities = data.get("identities", {})
        self.client_secrets = data.get("client_secrets", {})
        self.tokens = {t["value"]: Token(**t) for t in data.get("tokens", [])}


def _pkce_ok(grant: dict[str, Any], verifier: str) -> bool:
    if grant.get("code_challenge_method", "plain") == "plain":
        return secrets.compare_digest(grant["code_challenge"], verifier)
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(grant["code_challenge"], expected)
