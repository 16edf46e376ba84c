"""Value matchers: the small language trigger and condition fields use to match one value.

Written in YAML as:

- a scalar: equality (`state: R`, `exit_status: -29`); numbers compare as numbers, so
  `exit_status: "0"` matches 0, and a job named `123` (qstat sends it as a number) matches
  `name: "123"`;
- a list: any of its items matches (`state: [Q, H]`, `exit_status: [0, ">= 256"]`);
- a comparison: `">= 90"`, `"> 0"`, `"< 0"`, `"<= 5"`, `"== 3"`, `"!= 0"`;
- a range, both ends included: `"1..10"`, `"-30..-20"`;
- a glob for strings: `"sim-*"`, `"run-?"`, `"[ab]*"`.

A missing value (None: a running job's `exit_status`) matches nothing but `null` itself, so
`exit_status: "!= 0"` means "ended with a non-zero status", not "has not ended yet".
Matchers are parsed once at load time (`parse_matcher`), so a malformed one is a load error.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from watcher.lang.errors import type_word


class Matcher(ABC):
    """One parsed matcher; `str()` gives back a readable form for `watcher rules list`."""

    @abstractmethod
    def matches(self, value: Any) -> bool:
        """Whether `value` (an attribute of a job, a task, ...) satisfies this matcher."""

    def values(self) -> list[Any]:
        """The plain values this matcher compares with for equality (for load-time checks)."""
        return []


def _number(value: Any) -> float | None:
    """`value` as a number if it is one or a numeric string (qstat's types are unreliable)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Equals(Matcher):
    """The value equals `expected`: numbers as numbers, booleans only as booleans, else as text."""

    expected: Any

    def matches(self, value: Any) -> bool:
        """Numbers compare as numbers, booleans only with booleans, None only with None."""
        if value is None or self.expected is None:
            return value is None and self.expected is None
        if isinstance(value, bool) or isinstance(self.expected, bool):
            return value is self.expected
        a, b = _number(value), _number(self.expected)
        if a is not None and b is not None:
            return a == b
        return str(value) == str(self.expected)

    def values(self) -> list[Any]:
        """The one expected value."""
        return [self.expected]

    def __str__(self) -> str:
        return "null" if self.expected is None else str(self.expected)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}


@dataclass(frozen=True)
class Compare(Matcher):
    """A comparison written as `">= 90"`: `op` and a number."""

    op: str
    operand: float | str

    def matches(self, value: Any) -> bool:
        """False for None and for a non-number when the operand is numeric."""
        if value is None:
            return False
        if isinstance(self.operand, str):  # only == and != take a non-numeric operand
            return _OPS[self.op](str(value), self.operand)
        number = _number(value)
        return number is not None and _OPS[self.op](number, self.operand)

    def __str__(self) -> str:
        operand = self.operand if isinstance(self.operand, str) else _text(self.operand)
        return f"{self.op} {operand}"


@dataclass(frozen=True)
class Range(Matcher):
    """A number between `low` and `high`, both included (`"1..5"`)."""

    low: float
    high: float

    def matches(self, value: Any) -> bool:
        """True for a number (or numeric string) within low..high, both ends included."""
        number = _number(value)
        return number is not None and self.low <= number <= self.high

    def __str__(self) -> str:
        return f"{_text(self.low)}..{_text(self.high)}"


@dataclass(frozen=True)
class Glob(Matcher):
    """A string matching a shell-style `pattern` (`"sim-*"`)."""

    pattern: str

    def matches(self, value: Any) -> bool:
        """Shell-style glob on the value's text, case-sensitive; None never matches."""
        return value is not None and fnmatch.fnmatchcase(str(value), self.pattern)

    def __str__(self) -> str:
        return self.pattern


@dataclass(frozen=True)
class AnyOf(Matcher):
    """Any of several matchers (a YAML list)."""

    options: tuple[Matcher, ...]

    def matches(self, value: Any) -> bool:
        """True when any option matches."""
        return any(option.matches(value) for option in self.options)

    def values(self) -> list[Any]:
        """The options' plain values, in order."""
        return [v for option in self.options for v in option.values()]

    def __str__(self) -> str:
        return "[" + ", ".join(str(option) for option in self.options) + "]"


_NUMBER = r"-?\d+(?:\.\d+)?"
_COMPARE = re.compile(r"^\s*(>=|<=|!=|==|>|<)\s*(.*?)\s*$")
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*$")


def _parse_string(text: str) -> Matcher:
    if compare := _COMPARE.match(text):
        op, operand = compare.groups()
        number = _number(operand)
        if number is not None:
            return Compare(op, number)
        if op in ("==", "!=") and operand:
            return Compare(op, operand)
        raise ValueError(f"expected a number after '{op}' but got '{operand}'")
    if span := _RANGE.match(text):
        low, high = float(span.group(1)), float(span.group(2))
        if low > high:
            raise ValueError(f"range '{text}' is empty: its low end is above its high end")
        return Range(low, high)
    if any(c in text for c in "*?["):
        return Glob(text)
    return Equals(text)


def parse_matcher(raw: Any) -> Matcher:
    """Parse one matcher from its YAML value; raises ValueError with a readable reason."""
    if isinstance(raw, Matcher):
        return raw
    if isinstance(raw, list):
        if not raw:
            raise ValueError("expected at least one value in the list")
        if any(isinstance(item, list | dict) for item in raw):
            raise ValueError("expected a list of plain values, not nested lists or mappings")
        options = tuple(parse_matcher(item) for item in raw)
        return options[0] if len(options) == 1 else AnyOf(options)
    if isinstance(raw, str):
        return _parse_string(raw)
    if raw is None or isinstance(raw, bool | int | float):
        return Equals(raw)
    raise ValueError("expected a value, a list, a comparison like '>= 90' or a range like "
                     f"'1..10' but got {type_word(raw)}")


_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "boolean", "null"]}
MATCHER_JSON_SCHEMA: dict[str, Any] = {
    "description": "A value, a list (any of), a comparison like '>= 90', a range like '1..10', "
                   "or a glob like 'sim-*'.",
    "anyOf": [_SCALAR_SCHEMA, {"type": "array", "items": _SCALAR_SCHEMA, "minItems": 1}],
}

# A model field holding a matcher: parsed on validation, shown as text, documented in the schema.
MatcherField = Annotated[
    Matcher,
    PlainValidator(parse_matcher),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(MATCHER_JSON_SCHEMA),
]
