"""Which resource server a scope belongs to, as Globus Auth decides when it issues tokens.

One token per resource server: `openid profile email` and `urn:globus:auth:scope:auth.globus.org:*`
go to auth.globus.org, `urn:globus:auth:scope:<rs>:<name>` to `<rs>`, and
`https://auth.globus.org/scopes/<id>/<name>` to `<id>`. Dependent scopes (`[...]`) stay attached.
"""

from __future__ import annotations

from globus_sdk.scopes import ScopeParser

AUTH_RS = "auth.globus.org"
TRANSFER_RS = "transfer.api.globus.org"
TRANSFER_ALL = "urn:globus:auth:scope:transfer.api.globus.org:all"
_OIDC = frozenset({"openid", "profile", "email"})


def resource_server(scope: str) -> str:
    """The resource server a scope is for; an unrecognized scope is its own."""
    base = scope.split("[", 1)[0].strip()
    if base in _OIDC:
        return AUTH_RS
    if base.startswith("urn:globus:auth:scope:"):
        return base.split(":")[4]
    if base.startswith("https://auth.globus.org/scopes/"):
        return base.split("/")[4]
    return base


def by_resource_server(scope_string: str) -> dict[str, list[str]]:
    """Group the scopes of a request by resource server, in the order they were asked for."""
    scopes = sorted(ScopeParser.parse(scope_string),
                    key=lambda s: scope_string.find(s.scope_string))
    groups: dict[str, list[str]] = {}
    for scope in scopes:
        groups.setdefault(resource_server(scope.scope_string), []).append(str(scope))
    return groups


_DATA_ACCESS = "/data_access"


def consented(scope_string: str) -> set[str]:
    """The collections whose `data_access` a token's scope carries as a dependency."""
    found: set[str] = set()
    pending = list(ScopeParser.parse(scope_string)) if scope_string.strip() else []
    while pending:
        scope = pending.pop()
        text = scope.scope_string
        if text.startswith("https://auth.globus.org/scopes/") and text.endswith(_DATA_ACCESS):
            found.add(text.split("/")[4])
        pending.extend(scope.dependencies)
    return found
