"""Will the credentials outlive the workflow? Compare each lapse with the expected stage-out.

Pure: the caller gathers the facts (`watcher.workflows.lifetime_check`). What is measured and
what is estimated is kept with every figure, so a warning says which is which:

- the expected stage-out = now + queue wait (the `--queue-wait` you state; PBS reports no
  wait for a job not yet submitted) + the walltime you asked for (an upper bound) + the
  stage-in's expected time (its size, listed on the source, over the endpoint pair's recent
  rate, measured from your finished transfers between them; unknown without either);
- the refresh token lapses about 180 days after its last use (Globus's policy, an estimate;
  the last use is measured: every refresh `watcher run` does moves it);
- a high-assurance collection's consent lapses `authentication_timeout_mins` after the login
  (both measured: the collection's document, the recorded login time);
- an endpoint with an activation expiry (`expires_in` > 0 in its document) lapses then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.lang.durations import format_duration


@dataclass(frozen=True)
class Lapse:
    """One credential's end: what it is, when, whether the date is measured, what to do."""

    what: str
    at: datetime
    how: str
    fix: str


@dataclass(frozen=True)
class Span:
    """The parts of the expected time until the stage-out, each with how it was known."""

    parts: tuple[tuple[str, timedelta | None, str], ...]

    @property
    def total(self) -> timedelta:
        """The sum of the parts whose length is known (unknown parts count as zero)."""
        return sum((length for _, length, _ in self.parts if length), timedelta())

    def describe(self) -> str:
        """The parts for a warning: `name 2h (how) + name unknown (how)`."""
        shown = [f"{name} {format_duration(length)} ({how})" if length is not None
                 else f"{name} unknown ({how})" for name, length, how in self.parts]
        return " + ".join(shown)


def lapses_before(lapses: Sequence[Lapse], now: datetime, span: Span,
                  until: str = "stage-out") -> list[str]:
    """A warning for each credential that lapses before the expected `until` (the stage-out;
    a graph's last transfer)."""
    due = now + span.total
    return [f"{lapse.what} lapses at {lapse.at:%Y-%m-%d %H:%M} UTC ({lapse.how}), before the "
            f"workflow's expected {until} at {due:%Y-%m-%d %H:%M} UTC (now + "
            f"{span.describe()}): {lapse.fix}"
            for lapse in sorted(lapses, key=lambda item: item.at) if lapse.at < due]


_WALLTIME = re.compile(r"(?:^|,)walltime=([0-9:]+)")


def walltime(qsub_args: Sequence[str]) -> timedelta | None:
    """The `-l walltime=[[HH:]MM:]SS` the qsub arguments ask for (the last one wins)."""
    found = None
    for arg in qsub_args:
        for match in _WALLTIME.finditer(arg.removeprefix("-l")):
            found = _hms(match.group(1))
    return found


def _hms(text: str) -> timedelta | None:
    try:
        parts = [int(part) for part in text.split(":")]
    except ValueError:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return timedelta(seconds=seconds)


def transfer_time(size: int | None, rate: float | None) -> timedelta | None:
    """Bytes over bytes per second, or None when either is unknown."""
    if size is None or not rate:
        return None
    return timedelta(seconds=size / rate)


def chain_to_last_start(after: Mapping[str, Sequence[str]],
                        length: Mapping[str, timedelta | None],
                        targets: Iterable[str]) -> list[str]:
    """The longest chain of steps (by `length`, unknown as zero) that must end before one of
    `targets` can start: the steps that decide when a graph's last transfer starts.

    `after` names each step's dependencies; the graph is acyclic (checked when the file was
    read). Returns the chain in run order, empty when every target waits for nothing."""
    finish: dict[str, tuple[timedelta, list[str]]] = {}

    def ends(name: str) -> tuple[timedelta, list[str]]:
        if name not in finish:
            start, chain = begins(name)
            finish[name] = (start + (length.get(name) or timedelta()), [*chain, name])
        return finish[name]

    def longest(item: tuple[timedelta, list[str]]) -> tuple[timedelta, int]:
        # A tie (unknown lengths count as zero) goes to the chain of more steps: the last
        # transfer still waits for each of them, and a job among them brings the queue wait.
        return item[0], len(item[1])

    def begins(name: str) -> tuple[timedelta, list[str]]:
        return max((ends(dep) for dep in after.get(name, ())),
                   key=longest, default=(timedelta(), []))

    starts = [begins(name) for name in targets]
    return max(starts, key=longest, default=(timedelta(), []))[1]
