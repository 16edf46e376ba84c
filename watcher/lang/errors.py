"""Load-time errors: where in which file, which field, and what was expected.

Validation code reports `Problem`s against a data path (`("rules", 0, "do", 1, "qrls", "job")`);
the loader turns each into a `RuleError` with the line and column of that key or value, so every
message reads `file:line:col: field.path: message`. Messages are lowercase phrases with quoted
values, and a misspelt name comes with a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DataPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong at `path`; `at_key` points at the key itself (an unknown key, say)."""

    path: DataPath
    message: str
    at_key: bool = False
    # A word inside the value to point at (its occurrence): a name in a template.
    find: tuple[str, int] | None = None
    # A warning (a rule that can never fire) is reported but does not make the file invalid.
    warning: bool = False

    def under(self, prefix: DataPath) -> Problem:
        """This problem found inside a sub-document, its path put under `prefix`."""
        return Problem(prefix + self.path, self.message, self.at_key, self.find, self.warning)


@dataclass(frozen=True)
class RuleError:
    """One error in a rule file, printed as `file:line:col: field.path: message`."""

    path: Path
    line: int | None
    col: int | None
    field_path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        field = f" {self.field_path}:" if self.field_path else ""
        return f"{where}:{field} {'warning: ' if self.warning else ''}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `--format json` prints; severity is "error" or "warning"."""
        return {"path": str(self.path), "line": self.line, "col": self.col,
                "field_path": self.field_path, "message": self.message,
                "severity": "warning" if self.warning else "error"}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or an empty string."""
    options = list(choices)
    folded = [c for c in options if c.lower() == word.lower()]
    close = folded or difflib.get_close_matches(word, options, n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def expected_one_of(choices: Iterable[str], got: Any) -> str:
    """`expected one of a, b, c but got 'x' (did you mean 'a'?)`."""
    options = list(choices)
    return f"expected one of {', '.join(options)} but got '{got}'" + did_you_mean(str(got),
                                                                                   options)


def unknown_key(key: Any, allowed: Iterable[str]) -> str:
    """`unknown key 'stat' (did you mean 'state'?)`."""
    return f"unknown key '{key}'" + did_you_mean(str(key), allowed)


def a(noun: str) -> str:
    """`a trigger`, `an action`."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def type_word(value: Any) -> str:
    """How a YAML user would name the type of a value: a mapping, a list, a string..."""
    words = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "nothing"}
    return words.get(type(value), f"a {type(value).__name__}")


def field_path(path: DataPath) -> str:
    """A data path as users read it: `rules[2].do[0].qrls.job`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
