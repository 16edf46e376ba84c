"""The rules in force, reloaded when files change, keeping the last good version of a file.

A watcher keeps monitoring through a bad edit: a file that is invalid at start is skipped loudly;
a file that becomes invalid later keeps its last good rules in force until it is fixed. Either
way the errors are logged with file, line and field, and shown by `watcher rules list`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from watcher.rules.errors import RuleError
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


@dataclass(frozen=True)
class Loaded:
    """The rule files as loaded, not yet in force."""

    ruleset: RuleSet


class RuleBook:
    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self._good: dict[Path, list[Rule]] = {}
        self.files: dict[Path, FileState] = {}
        self._stamp: tuple[tuple[str, ...], ...] | None = None

    @property
    def rules(self) -> list[Rule]:
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
        self._good = {p: rules for p, rules in self._good.items() if p in ruleset.files}
        self.files = {}
        for path, status in ruleset.files.items():
            self._take(path, status.valid, by_file.get(path, []), errors.get(path, []))

    def _take(self, path: Path, valid: bool, rules: list[Rule], errors: list[RuleError]) -> None:
        if valid:
            self._good[path] = rules
            self.files[path] = FileState(path, True)
            return
        stale = path in self._good
        self.files[path] = FileState(path, False, errors, stale)
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
