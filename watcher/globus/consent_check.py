"""Asking Globus, before a transfer, whether each collection it touches will let the user in.

One cheap `operation_ls(collection, path=..., limit=1)` per collection: Transfer answers
`ConsentRequired` (403, with the `required_scopes` to ask for) before it looks at the path, so
a missing or unreadable directory (404, 403 PermissionDenied) says the consent is fine. The
result names the collections that lack consent and the one command that fixes them all,
`watcher login --collection ID ...` (`watcher.globus.consents`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import globus_sdk

from watcher.globus.consents import (
    collections_in,
    consent_command,
    is_consent_required,
    required_scopes,
)
from watcher.globus.errors import describe, is_transient


@dataclass
class ConsentReport:
    """Collections lacking consent (with the scopes Globus asked for), and those not checked."""

    missing: dict[str, list[str]] = field(default_factory=dict)
    unchecked: dict[str, str] = field(default_factory=dict)

    def command(self, keep: Sequence[str] = ()) -> str:
        """The `watcher login` command line that grants the missing consents, keeping `keep`."""
        return consent_command(list(self.missing), keep)

    def message(self, keep: Sequence[str] = ()) -> str:
        """One line: which collections, and what to run."""
        names = ", ".join(self.missing)
        return (f"Globus needs your consent for collection(s) {names} (data_access) before "
                f"watcher can move data there: run `{self.command(keep)}`")


def check_consents(client: globus_sdk.TransferClient,
                   paths: Mapping[str, str]) -> ConsentReport:
    """Probe each collection of `paths` (collection id -> a path on it). Raises nothing: a
    collection Globus did not answer about is `unchecked`, with why."""
    report = ConsentReport()
    for collection, path in paths.items():
        try:
            client.operation_ls(collection, path=path, limit=1)
        except globus_sdk.GlobusAPIError as exc:
            if is_consent_required(exc):
                scopes = required_scopes(exc)
                for named in collections_in(scopes) or [collection]:
                    report.missing.setdefault(named, scopes)
            elif is_transient(exc):
                report.unchecked[collection] = describe(exc)
        except globus_sdk.NetworkError as exc:
            report.unchecked[collection] = describe(exc)
    return report


def probe_paths(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """(collection, path) pairs to one directory per collection: the first path's folder."""
    found: dict[str, str] = {}
    for collection, path in pairs:
        folder = path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"
        found.setdefault(collection, folder or "/")
    return found
