"""PBS time values (`walltime`, `cput`, ...) as durations templates can compute with.

qstat prints `Resource_List.walltime` and `resources_used.walltime` as `HH:MM:SS` text (hours
past 24 stay hours: `100:00:00`). Templates get them as `PbsDuration`, a `timedelta` whose
arithmetic stays a `PbsDuration` and which prints the way qsub reads it back, so
`"{{ job.resources.walltime * 2 }}"` renders `04:00:00` for a two-hour job, and
`job.used.walltime > job.resources.walltime * 0.9` compares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

# Resources whose values are times in PBS (pbs_resources(7B)).
TIME_RESOURCES = frozenset({"walltime", "soft_walltime", "min_walltime", "max_walltime",
                            "cput", "pcput"})
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+)(?:\.\d+)?$")


class PbsDuration(timedelta):
    """A duration that prints as `HH:MM:SS` and stays one through `+ - * /`."""

    def __str__(self) -> str:
        total = round(self.total_seconds())
        sign = "-" if total < 0 else ""
        hours, rest = divmod(abs(total), 3600)
        return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def __repr__(self) -> str:
        return f"PbsDuration({self})"

    @classmethod
    def of(cls, value: timedelta) -> PbsDuration:
        """`value` as a PbsDuration, fractions of a second kept."""
        return cls(seconds=value.total_seconds())

    def __add__(self, other: Any) -> Any:
        return _wrap(timedelta.__add__(self, _delta(other)))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        return _wrap(timedelta.__sub__(self, _delta(other)))

    def __rsub__(self, other: Any) -> Any:
        return _wrap(timedelta.__rsub__(self, _delta(other)))

    def __mul__(self, other: Any) -> Any:
        return _wrap(timedelta.__mul__(self, other))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        return _wrap(timedelta.__truediv__(self, other))

    def __floordiv__(self, other: Any) -> Any:
        return _wrap(timedelta.__floordiv__(self, other))

    def __neg__(self) -> PbsDuration:
        return PbsDuration(seconds=-self.total_seconds())


def _delta(other: Any) -> Any:
    """Numbers added to a duration are seconds (`walltime + 3600`)."""
    if isinstance(other, int | float) and not isinstance(other, bool):
        return timedelta(seconds=other)
    return other


def _wrap(value: Any) -> Any:
    return PbsDuration.of(value) if isinstance(value, timedelta) else value


def parse_pbs_time(value: Any) -> PbsDuration | None:
    """`01:30:00`, `30:00`, `90` (seconds) as a duration; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return PbsDuration(seconds=value)
    if not isinstance(value, str):
        return None
    match = _CLOCK.match(value.strip())
    if not match:
        return PbsDuration(seconds=int(value)) if value.strip().isdigit() else None
    hours, minutes, seconds = (int(group) if group else 0 for group in match.groups())
    return PbsDuration(hours=hours, minutes=minutes, seconds=seconds)


def resources_view(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """A resource mapping with its time values as `PbsDuration` (others as qstat printed)."""
    view = dict(resources or {})
    for name in TIME_RESOURCES & view.keys():
        duration = parse_pbs_time(view[name])
        if duration is not None:
            view[name] = duration
    return view


def job_view(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """A job's attributes as templates see them: `resources` and `used` with durations."""
    view = dict(attrs)
    for name in ("resources", "used"):
        if name in view:
            view[name] = resources_view(view[name])
    return view
