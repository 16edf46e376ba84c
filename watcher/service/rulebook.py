"""The rules in force, reloaded when files change, keeping the last good version of a file.

A watcher keeps monitoring through a bad edit: a file that is invalid at start is skipped loudly;
a file that becomes invalid later keeps its last good rules in force until it is fixed. Either
way the errors are logged with file, line and field, and shown by `watcher rules list`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.events import CHANGED, RULES_INVALID, Event
from watcher.lang.errors import RuleError
from watcher.rules.loader import RuleSet, load_rules, rule_files
from watcher.rules.model import Rule

log = logging.getLogger(__name__)


@dataclass
class FileState:
    """One rule file as the service sees it."""

    path: Path
    valid: bool
    errors: list[RuleError] = field(default_factory=list)
    # True when the file is invalid now and an earlier good version is still in force.
    stale: bool = False
    sha256: str = ""  # of the content last loaded, good or not
    # When the version in force was loaded, and the names of its rules (None: none in force).
    in_force_since: datetime | None = None
    rules_in_force: tuple[str, ...] = ()
    failed_since: datetime | None = None  # when this invalid content was first loaded

    def to_value(self) -> dict[str, Any]:
        """What `watcher status` and `rules list` read from the store (`RULEBOOK_FACT`)."""
        return {"valid": self.valid, "stale": self.stale, "sha256": self.sha256,
                "in_force_since": _iso(self.in_force_since),
                "rules_in_force": list(self.rules_in_force),
                "failed_since": _iso(self.failed_since),
                "errors": [str(error) for error in self.errors]}


# The fact under which the service records its rule files (see `RuleBook.report`).
RULEBOOK_FACT = "rulebook"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


@dataclass(frozen=True)
class Loaded:
    """The rule files as loaded, not yet in force."""

    ruleset: RuleSet


class RuleBook:
    """The rule files the service watches, their state, and the rules in force."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self._good: dict[Path, list[Rule]] = {}
        self.files: dict[Path, FileState] = {}
        self._stamp: tuple[tuple[str, ...], ...] | None = None

    @property
    def rules(self) -> list[Rule]:
        """The rules of every file that loaded, files in path order, rules in file order."""
        return [rule for path in sorted(self._good) for rule in self._good[path]]

    def reload(self) -> bool:
        """Load the files again if any changed; True when the rules in force may differ."""
        loaded = self.load_changed()
        if loaded is None:
            return False
        self.adopt(loaded)
        return True

    def load_changed(self) -> Loaded | None:
        """The files loaded again if any changed, else None. Touches nothing in force, so it
        may run in a worker thread: loading a large or hostile directory takes seconds that
        the event loop (the polls) must not wait for."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return None
        # Stamped first: a load that failed (the loader answers each file's errors, but a bug
        # may still raise) is tried again when a file changes, not every two seconds.
        self._stamp = stamp
        return Loaded(load_rules(self.paths))

    def adopt(self, loaded: Loaded) -> None:
        """Put a load in force, keeping the last good version of each file now invalid."""
        ruleset = loaded.ruleset
        by_file: dict[Path, list[Rule]] = {path: [] for path in ruleset.files}
        for rule in ruleset.rules:
            if rule.source is not None:
                by_file.setdefault(Path(rule.source.path), []).append(rule)
        errors: dict[Path, list[RuleError]] = {}
        for error in ruleset.errors:
            errors.setdefault(Path(error.path), []).append(error)
        for error in ruleset.errors:
            if not error.line and Path(error.path) not in ruleset.files:
                log.error("rules path %s: %s", error.path, error.message)
        for warning in ruleset.warnings:  # loaded all the same: they are valid, only useless
            log.warning("%s", warning)
        self._good = {p: rules for p, rules in self._good.items() if p in ruleset.files}
        previous, self.files = self.files, {}
        for path, status in ruleset.files.items():
            self._take(path, status.valid, by_file.get(path, []), errors.get(path, []),
                       status.sha256, previous.get(path))

    def report(self) -> dict[str, Any]:
        """Each file as the service holds it, for the store (status and rules list read it)."""
        return {"at": datetime.now(UTC).isoformat(),
                "files": {str(path): state.to_value() for path, state in self.files.items()}}

    def _take(self, path: Path, valid: bool, rules: list[Rule], errors: list[RuleError],
              sha256: str, before: FileState | None) -> None:
        now = datetime.now(UTC)
        if valid:
            self._good[path] = rules
            since = before.in_force_since if before and before.valid and \
                before.sha256 == sha256 else now
            self.files[path] = FileState(path, True, sha256=sha256, in_force_since=since,
                                         rules_in_force=tuple(r.name for r in rules))
            return
        stale = path in self._good
        failed_since = before.failed_since if before and not before.valid and \
            before.sha256 == sha256 else now
        self.files[path] = FileState(
            path, False, errors, stale, sha256,
            before.in_force_since if stale and before else None,
            tuple(r.name for r in self._good.get(path, [])), failed_since)
        for error in errors:
            log.error("%s", error)
        if stale:
            log.error("%s is invalid; its last good version stays in force", path)
        else:
            log.error("%s is invalid; its rules are not in force", path)

    def _current_stamp(self) -> tuple[tuple[str, ...], ...]:
        files, missing = rule_files(self.paths)
        stamp = []
        for path in files:
            try:
                st = path.stat()
            except OSError:
                continue
            stamp.append((str(path), str(st.st_mtime_ns), str(st.st_size)))
        # A rules path that disappears (an automounted home) is a change, and logged as one.
        stamp += [(str(error.path), "missing", "") for error in missing]
        return tuple(stamp)


def rules_invalid_events(previous: dict[str, Any] | None, report: dict[str, Any],
                         at: datetime) -> list[Event]:
    """The `rules_invalid` events between two recorded reports (`RuleBook.report`): one for
    each file invalid now in a version the previous report did not already show invalid, and
    one (`valid: true`) for each file fixed since. Pure; comparing with the report stored by
    the last run is what keeps a restart, or a reload of an untouched file, quiet."""
    before = (previous or {}).get("files") or {}
    events = []
    for path, entry in (report.get("files") or {}).items():
        old = before.get(path)
        now = _file_attributes(path, entry)
        was = None if old is None else _file_attributes(path, old)
        if not entry.get("valid"):
            if was is not None and not was["valid"] and was["sha256"] == now["sha256"]:
                continue  # told already: the same broken version
        elif was is None or was["valid"]:
            continue  # valid, and it was (or it is new): nothing to tell
        events.append(Event(RULES_INVALID, path, at, CHANGED, was, now))
    return events


def _file_attributes(path: str, entry: dict[str, Any]) -> dict[str, Any]:
    errors = [str(error) for error in entry.get("errors") or []]
    return {"path": path, "valid": bool(entry.get("valid")), "errors": errors,
            "error": errors[0] if errors else None, "stale": bool(entry.get("stale")),
            "rules_in_force": list(entry.get("rules_in_force") or []),
            "sha256": entry.get("sha256") or ""}


def service_view(report: dict[str, Any] | None, path: Path, sha256: str) -> str:
    """What the service runs of an invalid file, from its recorded `report` (`RULEBOOK_FACT`):
    the words `watcher status` and `rules list` put before the file's first error."""
    files = (report or {}).get("files") or {}
    entry = files.get(str(path)) or files.get(str(path.resolve()))
    if entry is None:
        return "invalid, not in force"
    kept = entry.get("rules_in_force") or []
    since = _short(entry.get("in_force_since"))
    count = f"{len(kept)} rule{'s' * (len(kept) != 1)}"
    if entry.get("sha256") != sha256:  # edited since the service last loaded it
        if entry.get("valid") or entry.get("stale"):
            return (f"invalid, not loaded by the service yet: it still runs the version loaded "
                    f"{since} ({count})")
        return "invalid, not in force"
    if entry.get("stale"):
        return (f"invalid since {_short(entry.get('failed_since'))}; the last good version "
                f"(loaded {since}, {count}) stays in force")
    return "invalid, not in force"


def _short(at: str | None) -> str:
    """An ISO time as `2026-12-01 21:50:03 UTC`."""
    if not at:
        return "?"
    return datetime.fromisoformat(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
