"""Load rule files: every file, every error, none stopping the others.

A file with any error is invalid and none of its rules are loaded (half a file of rules can do
surprising things), but the other files load. Rule names are unique across files: the first file
(in sorted order) to define a name keeps it and a later definition is an error of the later
file. Every error carries the file, line and column of the offending key or value.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from watcher.lang.errors import DataPath, Problem, RuleError, field_path, type_word, unknown_key
from watcher.lang.limits import MAX_RULES, LimitError, check_size
from watcher.lang.marks import Marks, compose
from watcher.rules.model import NAME_PATTERN, Rule, RuleSource
from watcher.rules.parse import parse_rule
from watcher.rules.reserved import is_shipped, reserved_names, reserved_reason
from watcher.rules.template_check import word_matches

SUFFIXES = (".yaml", ".yml")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileStatus:
    """One rule file: valid or not, its errors, its rule entries (loaded only if it is valid),
    and its content hash (to tell a changed file on reload)."""

    path: Path
    valid: bool
    errors: int
    rules: int
    sha256: str


@dataclass
class RuleSet:
    """The rules of every valid file, every error, and the status of each file."""

    rules: list[Rule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    warnings: list[RuleError] = field(default_factory=list)
    files: dict[Path, FileStatus] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no file had an error (warnings do not count)."""
        return not self.errors

    def by_name(self) -> dict[str, Rule]:
        """The loaded rules keyed by their unique name."""
        return {rule.name: rule for rule in self.rules}

    def raise_for_errors(self) -> None:
        """Raise RuleLoadError carrying every error, if there is any."""
        if self.errors:
            raise RuleLoadError(self.errors)


class RuleLoadError(Exception):
    """Rule files had errors; `str()` lists them one a line."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = list(errors)


def rule_files(paths: Sequence[Path]) -> tuple[list[Path], list[RuleError]]:
    """Files named, plus `*.yaml`/`*.yml` of directories named (sorted); missing paths are
    errors."""
    files: list[Path] = []
    errors = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        elif path.exists():
            files.append(path)
        else:
            errors.append(RuleError(path, None, None, "", "no such file or directory"))
    return list(dict.fromkeys(files)), errors


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Load every rule file under `paths` (files or directories)."""
    files, errors = rule_files(paths)
    ruleset = RuleSet(errors=errors)
    claimed: dict[str, RuleSource] = {}
    for path in files:
        try:
            content = path.read_bytes()
        except OSError as exc:
            error = RuleError(path, None, None, "", f"cannot read: {exc.strerror}")
            _add_file(ruleset, path, "", [], [error])
            continue
        _load_into(ruleset, path, content, claimed)
    return ruleset


def load_rule_text(text: str, name: str = "<text>", *, taken: Sequence[str] = ()) -> RuleSet:
    """Load rules from a string (tests, workflow instantiation); `name` stands for the file.
    Names in `taken` count as already defined elsewhere."""
    claimed = {rule: RuleSource(path=Path("<loaded>")) for rule in taken}
    ruleset = RuleSet()
    _load_into(ruleset, Path(name), text.encode(), claimed)
    return ruleset


def _load_into(ruleset: RuleSet, path: Path, content: bytes,
               claimed: dict[str, RuleSource]) -> None:
    digest = hashlib.sha256(content).hexdigest()
    try:
        check_size(content)
        text = content.decode("utf-8")
    except LimitError as exc:
        _add_file(ruleset, path, digest, [], [RuleError(path, None, None, "", str(exc))])
        return
    except UnicodeDecodeError as exc:
        line, col = _position(content, exc.start)
        error = RuleError(path, line, col, "", f"not UTF-8 text: {exc.reason} (byte "
                                               f"{content[exc.start]:#04x})")
        _add_file(ruleset, path, digest, [], [error])
        return
    try:
        rules, entries, errors = _load_text(text, path, claimed, reserved_names(digest),
                                             is_shipped(digest))
    except Exception as exc:  # a bug must cost this file only, never the others or the service
        log.exception("loading %s failed", path)
        rules, entries = [], 0
        errors = [RuleError(path, None, None, "", f"could not be loaded: "
                                                  f"{type(exc).__name__}: {exc}")]
    _add_file(ruleset, path, digest, rules, errors, entries)


def _position(data: bytes | str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset (a byte or a character)."""
    before = data[:offset]
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return before.count(newline) + 1, offset - (before.rfind(newline) + 1) + 1


def _add_file(ruleset: RuleSet, path: Path, digest: str, rules: list[Rule],
              found: list[RuleError], entries: int = 0) -> None:
    errors, warnings = _split(found)
    ruleset.files[path] = FileStatus(path, not errors, len(errors), entries, digest)
    ruleset.errors += errors
    ruleset.warnings += warnings
    if not errors:
        ruleset.rules += rules


def _load_text(text: str, path: Path, claimed: dict[str, RuleSource],
               reserved: frozenset[str] = frozenset(), shipped: bool = False
               ) -> tuple[list[Rule], int, list[RuleError]]:
    """The file's valid rules, its number of rule entries, and its errors."""
    try:
        data, marks = compose(text)
    except LimitError as exc:
        return [], 0, [RuleError(path, exc.line, exc.col, "", str(exc))]
    except yaml.reader.ReaderError as exc:  # a control character: no mark, only an offset
        line, col = _position(text, exc.position)
        return [], 0, [RuleError(path, line, col, "", f"invalid YAML: control character "
                                                      f"U+{exc.character:04X} is not allowed")]
    except yaml.MarkedYAMLError as exc:
        return [], 0, [_yaml_error(path, exc)]
    except yaml.YAMLError as exc:
        return [], 0, [RuleError(path, None, None, "", f"invalid YAML: {exc}")]
    if marks.refused:
        return [], 0, [_error(path, problem, marks, data, text) for problem in marks.refused]
    rules: list[Rule] = []
    problems = list(marks.problems)
    items = _rule_items(data, problems)
    for index, raw in items:
        rule, found = parse_rule(raw, ("rules", index), path, marks.line,
                                 checked=not shipped)
        problems += found + _claim(raw, ("rules", index), RuleSource(path=path,
                                   line=marks.line(("rules", index))), claimed, reserved)
        if rule is not None:
            rules.append(rule)
    errors = [_error(path, problem, marks, data, text) for problem in problems]
    return rules, len(items), sorted(errors, key=lambda error: (error.line or 0, error.col or 0))


def _split(found: list[RuleError]) -> tuple[list[RuleError], list[RuleError]]:
    """Errors and warnings (rules that can never fire: reported, but loaded)."""
    return [e for e in found if not e.warning], [e for e in found if e.warning]


def _rule_items(data: Any, problems: list[Problem]) -> list[tuple[int, Any]]:
    if data is None:  # an empty file: no rules, not an error
        return []
    if not isinstance(data, dict):
        problems.append(Problem((), f"expected a mapping with a 'rules' list but got "
                                    f"{type_word(data)}"))
        return []
    problems += [Problem((key,), unknown_key(key, ["rules"]), True) for key in data
                 if key != "rules"]
    items = data.get("rules") or []
    if not isinstance(items, list):
        problems.append(Problem(("rules",), f"expected a list of rules but got "
                                            f"{type_word(items)}"))
        return []
    if len(items) > MAX_RULES:
        problems.append(Problem(("rules", MAX_RULES), f"more than {MAX_RULES} rules in one "
                                                      "file (split it into several files)"))
        return []
    return list(enumerate(items))


def _claim(raw: Any, at: DataPath, source: RuleSource, claimed: dict[str, RuleSource],
           reserved: frozenset[str] = frozenset()) -> list[Problem]:
    """The first definition of a name keeps it, even if that rule has other errors: the
    duplicate is still a mistake to report now, not after the other one is fixed."""
    name = raw.get("name") if isinstance(raw, dict) else None
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return []
    if name in reserved:
        return [Problem((*at, "name"), reserved_reason(name))]
    first = claimed.setdefault(name, source)
    if first is source:
        return []
    return [Problem((*at, "name"), f"duplicate rule name '{name}' (first defined at {first})")]


def _error(path: Path, problem: Problem, marks: Marks, data: Any, text: str) -> RuleError:
    where = marks.locate(problem.path, problem.at_key)
    if where and problem.find:
        where = _find_word(text, where, *problem.find)
    line, col = where if where else (None, None)
    return RuleError(path, line, col, _display_path(problem.path, data), problem.message,
                     problem.warning)


def _display_path(path: DataPath, data: Any) -> str:
    """`rules[3].do[0].qrls` reads better as `release-held.do[0].qrls`."""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        item = data["rules"][path[1]]
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and NAME_PATTERN.match(name):
            return field_path((name, *path[2:]))
    return field_path(path)


def _find_word(text: str, where: tuple[int, int], word: str, occurrence: int
               ) -> tuple[int, int]:
    """The line and column of the `occurrence`-th `word` from `where` on (a name inside a
    template value), or `where` itself if it is not there."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:where[0] - 1]) + where[1] - 1
    found = word_matches(word, text[start:])
    if not found:
        return where
    offset = start + found[min(occurrence, len(found) - 1)].start()
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _yaml_error(path: Path, exc: yaml.MarkedYAMLError) -> RuleError:
    unclosed = _unclosed_flow(path, exc)
    if unclosed is not None:
        return unclosed
    mark = exc.problem_mark or exc.context_mark
    message = "invalid YAML: " + (exc.problem or "")
    if exc.context:  # "while parsing a flow mapping": where the unclosed thing started
        started = f" at line {exc.context_mark.line + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{started})"
    if "'\\t'" in message:
        message += "; indent with spaces, YAML does not allow tabs"
    if mark is None:
        return RuleError(path, None, None, "", message)
    return RuleError(path, mark.line + 1, mark.column + 1, "", message)


def _unclosed_flow(path: Path, exc: yaml.MarkedYAMLError) -> RuleError | None:
    """A `{` or `[` left open: PyYAML notices only on a later line, where nothing is wrong;
    the mistake is on the line that opened it."""
    opened, found = exc.context_mark, exc.problem_mark
    context = exc.context or ""
    if opened is None or found is None or found.line <= opened.line or \
            not context.startswith("while parsing a flow"):
        return None
    bracket = "{" if "mapping" in context else "["
    closing = "}" if bracket == "{" else "]"
    return RuleError(path, opened.line + 1, opened.column + 1, "",
                     f"invalid YAML: this '{bracket}' is not closed (expected ',' or "
                     f"'{closing}' but got {exc.problem.rsplit('got ', 1)[-1]} at line "
                     f"{found.line + 1})")
