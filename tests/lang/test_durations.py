"""Durations as rule files write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watcher.lang.durations import format_duration, parse_duration


@pytest.mark.parametrize(("raw", "seconds"), [
    ("30s", 30), ("2m", 120), ("1h30m", 5400), ("1d", 86400), ("1d2h3m4s", 93784),
    ("1.5s", 1.5), (" 2M ", 120), ("01:30:00", 5400), ("5:00", 300), ("90", 90), (45, 45),
    (0.5, 0.5), (timedelta(minutes=1), 60),
])
def test_parses(raw: object, seconds: float) -> None:
    assert parse_duration(raw) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("raw", "message"), [
    ("30x", "expected a duration like '30s', '2m', '1h30m', '1d', '01:30:00' or seconds "
            "but got '30x'"),
    ("", "expected a duration like '30s', '2m', '1h30m', '1d', '01:30:00' or seconds "
         "but got ''"),
    ("m", "expected a duration like '30s', '2m', '1h30m', '1d', '01:30:00' or seconds "
          "but got 'm'"),
    (True, "expected a duration like '30s', '2m', '1h30m', '1d', '01:30:00' or seconds "
           "but got a boolean"),
    (0, "expected a positive duration but got '0'"),
    ("-5", "expected a positive duration but got '-5'"),
])
def test_rejects(raw: object, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_duration(raw)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(("seconds", "text"), [
    (30, "30s"), (5400, "1h30m"), (86400, "1d"), (93784, "1d2h3m4s"), (1.5, "1.5s")])
def test_formats_round_trip(seconds: float, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text
    assert parse_duration(text) == timedelta(seconds=seconds)
