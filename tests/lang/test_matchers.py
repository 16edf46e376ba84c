"""Every matcher form: what it matches, what it rejects, how it reads back."""

from __future__ import annotations

import pytest

from watcher.lang.matchers import parse_matcher


@pytest.mark.parametrize(("raw", "yes", "no"), [
    ("R", ["R"], ["Q", "r", None]),
    (0, [0, "0", 0.0], [1, None, "x", False]),
    (-29, [-29, "-29"], [29, 0, None]),
    ("-29", [-29], [-2]),
    ("123", [123, "123"], [1234]),  # qstat turns numeric job names into numbers
    (True, [True], [1, "true"]),
    (None, [None], [0, ""]),
    (["Q", "H"], ["Q", "H"], ["R", None]),
    ([0, ">= 256"], [0, 256, 271], [1, -29, None]),
    (">= 90", [90, 95.5, "91"], [89.9, None, "abc"]),
    ("> 0", [1], [0, -1]),
    ("< 0", [-1, -29], [0, 1]),
    ("<= 5", [5, 4], [6]),
    ("== 3", [3, "3"], [4]),
    ("!= 0", [1, -29, 271], [0, None]),  # None: a running job has no exit status yet
    ("!= R", ["Q"], ["R", None]),
    ("1..10", [1, 10, 5.5, "7"], [0, 11, None, "x"]),
    ("-30..-20", [-29, -30, -20], [-19, 0]),
    ("sim-*", ["sim-1", "sim-"], ["sim", "xsim-1", None]),
    ("run-?", ["run-1"], ["run-12"]),
    ("[ab]*", ["alpha", "beta"], ["gamma"]),
    ("*too many failed attempts*", ["job held, too many failed attempts to run"], ["held"]),
])
def test_matches(raw: object, yes: list[object], no: list[object]) -> None:
    matcher = parse_matcher(raw)
    assert [matcher.matches(v) for v in yes] == [True] * len(yes)
    assert [matcher.matches(v) for v in no] == [False] * len(no)


@pytest.mark.parametrize(("raw", "text"), [
    ("R", "R"), (-29, "-29"), (None, "null"), (["Q", "H"], "[Q, H]"), ([0], "0"),
    (">=90", ">= 90"), ("!= 0", "!= 0"), ("< 0.5", "< 0.5"), ("1..10", "1..10"),
    ("-1.5..2", "-1.5..2"), ("sim-*", "sim-*"), (["Q", ">= 3"], "[Q, >= 3]"),
])
def test_reads_back(raw: object, text: str) -> None:
    assert str(parse_matcher(raw)) == text


@pytest.mark.parametrize(("raw", "message"), [
    (">= abc", "expected a number after '>=' but got 'abc'"),
    ("<", "expected a number after '<' but got ''"),
    ("10..1", "range '10..1' is empty: its low end is above its high end"),
    ([], "expected at least one value in the list"),
    ([["Q"]], "expected a list of plain values, not nested lists or mappings"),
    ({"a": 1}, "expected a value, a list, a comparison like '>= 90' or a range like '1..10' "
               "but got a mapping"),
])
def test_rejects(raw: object, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_matcher(raw)
    assert str(excinfo.value) == message


def test_parsed_matcher_passes_through() -> None:
    matcher = parse_matcher("sim-*")
    assert parse_matcher(matcher) is matcher
