"""Durations in rule files: `30s`, `2m`, `1h30m`, `1d`, `01:30:00`, or a number of seconds."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from watcher.lang.errors import type_word

_UNITS = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d{2})$")  # PBS walltime style: [HH:]MM:SS
_PATTERN = r"^(\d+d)?(\d+h)?(\d+m)?(\d+(\.\d+)?s)?$|^(\d+:)?\d+:\d{2}$|^\d+(\.\d+)?$"


def parse_duration(raw: Any) -> timedelta:
    """Parse a duration; raises ValueError naming the accepted forms."""
    if isinstance(raw, timedelta):
        seconds = raw.total_seconds()
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw)
    elif isinstance(raw, str):
        seconds = _seconds(raw.strip().lower())
    else:
        raise ValueError(_EXPECTED + f" but got {type_word(raw)}")
    if math.isnan(seconds) or seconds <= 0:
        raise ValueError(f"expected a positive duration but got '{raw}'")
    if seconds > MAX_SECONDS:  # `.inf`, `99999999999999999999d`: past what a date can hold
        raise ValueError(f"expected a duration of at most {MAX_DAYS}d but got '{raw}'")
    return timedelta(seconds=seconds)


MAX_DAYS = 3650  # ten years: any window, cooldown or retention; `now + duration` stays a date
MAX_SECONDS = MAX_DAYS * 86400


_EXPECTED = "expected a duration like '30s', '2m', '1h30m', '1d', '01:30:00' or seconds"


# `2 hours`, `1 hour 30 minutes`, `90 mins`: the words people type on a command line.
_WORD = re.compile(r"(\d+(?:\.\d+)?)\s*(days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)"
                   r"(?:\s+|,\s*|$)")
_WORDS = re.compile(rf"^(?:{_WORD.pattern})+$")


def _from_words(text: str) -> str:
    """`1 hour 30 minutes` -> `1h30m`; other text as it is."""
    if not _WORDS.match(text):
        return text
    return "".join(f"{number}{unit[0]}" for number, unit in _WORD.findall(text))


def _seconds(text: str) -> float:
    text = _from_words(text)
    units = _UNITS.match(text)
    if units and text:
        d, h, m, s = (float(g) if g else 0.0 for g in units.groups())
        return d * 86400 + h * 3600 + m * 60 + s
    clock = _CLOCK.match(text)
    if clock:
        h, m, s = (int(g) if g else 0 for g in clock.groups())
        if s > 59 or (clock.group(1) is not None and m > 59):
            field = "seconds" if s > 59 else "minutes"
            raise ValueError(f"expected {field} from 00 to 59 in '{text}' (HH:MM:SS)")
        return h * 3600 + m * 60 + s
    try:
        return float(text)
    except ValueError:
        raise ValueError(_EXPECTED + f" but got '{text}'") from None


def format_duration(value: timedelta) -> str:
    """The shortest unit form: 5400 s -> `1h30m`; the inverse of `parse_duration`."""
    seconds = value.total_seconds()
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    if seconds or not parts:
        parts.append(f"{seconds:g}s")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    PlainValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({
        "description": "A duration: '30s', '2m', '1h30m', '1d', '01:30:00', or seconds.",
        "anyOf": [{"type": "number", "exclusiveMinimum": 0},
                  {"type": "string", "pattern": _PATTERN}],
    }),
]
