"""Collections that need the user's consent: read from Globus's answers, kept, and told.

A Globus Connect Server v5 mapped collection refuses a Transfer request until the user
consented to its `data_access` scope: Transfer answers 403 `ConsentRequired` with the
`required_scopes` to ask for, e.g. `urn:globus:auth:scope:transfer.api.globus.org:all
[*https://auth.globus.org/scopes/<COLLECTION>/data_access]`. The fix is always one command,
`watcher login --collection ID ...` (naming every collection the login should keep, since a
new login replaces the old tokens), so the collections are read out of the scopes with
globus-sdk's scope parser and the command is written here, once, for every place that tells it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import globus_sdk
from globus_sdk.scopes import Scope, ScopeParseError, ScopeParser
from sqlmodel import Session, col, select

from watcher.store.facts import put_fact
from watcher.store.models import Fact, Snapshot

ENDPOINT_SOURCE = "globus-endpoints"
_PREFIX = "consent:"
_URL_SCOPE = "https://auth.globus.org/scopes/"


def collections_in(scopes: Iterable[str]) -> list[str]:
    """The collection ids whose `data_access` the scopes ask for, in order, once each."""
    found: list[str] = []
    for text in scopes:
        try:
            parsed = ScopeParser.parse(text)
        except (ScopeParseError, ValueError):  # not a scope string: nothing to read
            continue
        for scope in _walk(parsed):
            string = scope.scope_string
            if string.startswith(_URL_SCOPE) and string.endswith("/data_access"):
                collection = string[len(_URL_SCOPE):-len("/data_access")]
                if collection not in found:
                    found.append(collection)
    joined = " ".join(scopes)  # the parser does not keep the order: the text does
    return sorted(found, key=joined.find)


def _walk(scopes: Iterable[Scope]) -> Iterable[Scope]:
    for scope in scopes:
        yield scope
        yield from _walk(scope.dependencies)


def required_scopes(exc: globus_sdk.GlobusAPIError) -> list[str]:
    """The scopes a `ConsentRequired` answer asks for (its GARE's, else the top level's)."""
    info = exc.info.consent_required
    return list(info.required_scopes or []) if info else []


def is_consent_required(exc: BaseException) -> bool:
    """Whether a Globus API error asks for a new consent (the code or the info says so)."""
    return isinstance(exc, globus_sdk.GlobusAPIError) and (
        exc.code == "ConsentRequired" or bool(exc.info.consent_required))


def consent_command(missing: Sequence[str], keep: Sequence[str] = ()) -> str:
    """`watcher login --collection A --collection B`: the missing ones and those to keep."""
    wanted = list(dict.fromkeys([*keep, *missing]))
    return " ".join(["watcher login", *(f"--collection {c}" for c in wanted)])


def note_missing(session: Session, collection: str, scopes: Sequence[str],
                 why: str) -> None:
    """Remember that `collection` lacks consent (for `watcher status`), until a new login."""
    put_fact(session, f"{_PREFIX}{collection}", {"missing": True, "scopes": list(scopes),
                                                 "why": why,
                                                 "at": datetime.now(UTC).isoformat()})


def missing_consents(session: Session, since: datetime | None = None) -> list[str]:
    """Collections known to lack consent: from consent checks (those noted after `since`, the
    last login, which may have given the consent) and from endpoint probes."""
    facts = session.exec(select(Fact).where(col(Fact.key).startswith(_PREFIX))).all()
    found = [f.key[len(_PREFIX):] for f in facts if dict(f.value).get("missing")
             and (since is None or _noted_at(f.value) >= since)]
    probes = session.exec(select(Snapshot).where(Snapshot.source == ENDPOINT_SOURCE)).all()
    found += [row.subject for row in probes if _needs_consent(row.attrs)]
    return sorted(set(found))


def _noted_at(value: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(value.get("at")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _needs_consent(attrs: dict[str, Any]) -> bool:
    return bool(attrs.get("consent_required"))
