"""The quota source: how full each watched path is, one observation per poll for all of them.

- `statvfs`: the filesystem holding the path, as `df` sees it: `used_percent` is
  `used / (used + available)`, because blocks reserved for root are no space a user can fill.
- `lfs`: `lfs quota -u <user> <path>` (or a configured argv, e.g. `-p <project id>` for a
  Lustre project quota), parsed from the text lfs prints (`parse_lfs_quota`).
- `command`: any argv printing JSON, `{"used_bytes": N, "limit_bytes": N}` or
  `{"used_percent": P}`, optionally with `files`, `files_limit` and `over_limit`.

The subject is the path as configured (normalised), so a rule's `path:` names it. A path that
cannot be read this time is `unreadable` (neither changed nor gone) and its error goes in
`detail["errors"]`; the poll fails only when no path could be read, so one hung `lfs` does not
blind the others. Percentages are floored to tenths: `>= 90` never fires at 89.96, and the state
layer sees a change when the tenth moves, not on every byte a job writes.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from watcher.events import QUOTA
from watcher.pbs.commands import PbsCommands
from watcher.sources.base import Observation, Source
from watcher.sources.quota_fields import normalize_path

DEFAULT_TIMEOUT = 60.0


class QuotaError(ValueError):
    """A path's usage could not be read or understood; the message says why."""


class QuotaTarget(BaseModel):
    """One watched path and how to ask about it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    kind: Literal["statvfs", "lfs", "command"] = "statvfs"
    # `command`: the argv to run (required). `lfs`: replaces `lfs quota -u <user> <path>`.
    argv: list[str] | None = None
    # `lfs`: whose quota (default: the user watcher runs as).
    user: str | None = None

    @model_validator(mode="after")
    def _argv_fits_kind(self) -> QuotaTarget:
        if self.kind == "command" and not self.argv:
            raise ValueError("kind 'command' needs 'argv', the command printing JSON usage")
        if self.kind == "statvfs" and self.argv:
            raise ValueError("kind 'statvfs' runs no command: remove 'argv'")
        if self.user is not None and (self.kind != "lfs" or self.argv):
            raise ValueError("'user' is only for kind 'lfs' without 'argv'")
        return self

    @property
    def subject(self) -> str:
        """The path normalized, as events name the quota."""
        return normalize_path(self.path)

    def command(self) -> list[str]:
        """The argument list to run: `argv`, or `lfs quota -u USER PATH`."""
        if self.argv:
            return list(self.argv)
        return ["lfs", "quota", "-u", self.user or getpass.getuser(), self.path]


class QuotaSource(Source):
    """Polls every target at once; see the module docstring for what each kind measures.

    `due()` paces it at `interval` seconds however often the service's loop asks (usage moves
    slowly, and each `lfs quota` queries every quota server).
    """

    kind = QUOTA

    def __init__(self, targets: Sequence[QuotaTarget], *, name: str = "quota",
                 timeout: float = DEFAULT_TIMEOUT, interval: float = 0.0,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.targets = list(targets)
        self.name, self.timeout, self.interval = name, timeout, interval
        self._now, self._clock = now, clock
        self._next_at = float("-inf")

    def due(self) -> bool:
        """Whether the interval since the last poll has passed."""
        return self._clock() >= self._next_at

    async def poll(self) -> Observation:
        """Read every target at once; fails only when every target failed."""
        at = self._now()
        self._next_at = self._clock() + self.interval
        reads = await asyncio.gather(*(self._read(target) for target in self.targets))
        pairs = [(target.subject, read) for target, read in zip(self.targets, reads, strict=True)]
        subjects = {path: read for path, read in pairs if not isinstance(read, str)}
        errors = {path: read for path, read in pairs if isinstance(read, str)}
        if errors and not subjects:
            reason = "; ".join(f"{path}: {error}" for path, error in errors.items())
            return Observation.failed(self.name, at, reason, {"errors": errors})
        return Observation(self.name, True, at, subjects=subjects, unreadable=set(errors),
                           detail={"errors": errors} if errors else {})

    async def _read(self, target: QuotaTarget) -> dict[str, Any] | str:
        """The target's attributes, or the reason they could not be read."""
        if target.kind == "statvfs":
            try:  # a dead network mount can hang statvfs for good: give up on it, not the poll
                st = await asyncio.wait_for(asyncio.to_thread(os.statvfs, target.subject),
                                            self.timeout)
            except TimeoutError:
                return f"statvfs timed out after {self.timeout:g}s"
            except OSError as exc:
                return f"statvfs failed: {exc}"
            return statvfs_attributes(target.subject, st)
        # The project's argv runner: no shell; a timeout or a missing binary is a result.
        result = await PbsCommands(timeout=self.timeout).run(*target.command())
        try:
            if target.kind == "lfs":  # lfs exits non-zero on inaccurate values, yet prints them
                return lfs_attributes(target.subject, result.stdout, result.returncode)
            if result.ok:
                return command_attributes(target.subject, result.stdout)
        except QuotaError as exc:
            return str(exc) if result.ok else f"{exc}; {result.describe()}"
        return result.describe()


def floor_percent(used: int, limit: int | None) -> float | None:
    """`used` as a percentage of `limit`, rounded down to 0.1; None when there is no limit."""
    return None if not limit else (used * 1000 // limit) / 10


def quota_attributes(path: str, kind: str, *, used_bytes: int | None, limit_bytes: int | None,
                     used_percent: float | None = None, files: int | None = None,
                     files_limit: int | None = None, marked_over: bool = False,
                     grace: str | None = None, inaccurate: bool = False) -> dict[str, Any]:
    """The attributes every kind reports (QUOTA_ATTRIBUTES); None where a kind cannot know."""
    if used_percent is None and used_bytes is not None:
        used_percent = floor_percent(used_bytes, limit_bytes)
    files_percent = floor_percent(files, files_limit) if files is not None else None
    over = (marked_over or (used_percent is not None and used_percent >= 100)
            or (files_percent is not None and files_percent >= 100))
    return {"path": path, "kind": kind, "used_bytes": used_bytes, "limit_bytes": limit_bytes,
            "used_percent": used_percent, "over_limit": over, "files": files,
            "files_limit": files_limit, "files_percent": files_percent, "grace": grace,
            "inaccurate": inaccurate}


def statvfs_attributes(path: str, st: os.statvfs_result) -> dict[str, Any]:
    """A file system's quota attributes from statvfs; the limit counts only what users may use."""
    frsize = st.f_frsize or st.f_bsize
    used = (st.f_blocks - st.f_bfree) * frsize
    files = st.f_files - st.f_ffree
    return quota_attributes(path, "statvfs", used_bytes=used,
                            limit_bytes=used + st.f_bavail * frsize,
                            files=files if st.f_files else None,
                            files_limit=files + st.f_favail if st.f_files else None)


def command_attributes(path: str, stdout: str) -> dict[str, Any]:
    """Attributes from a command's JSON: bytes and a limit, or a percentage."""
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        raise QuotaError(f"the command did not print JSON: {exc}") from None
    if not isinstance(data, dict):
        raise QuotaError("the command printed JSON that is not an object")
    used, limit = _count(data, "used_bytes"), _count(data, "limit_bytes")
    percent = data.get("used_percent")
    if percent is not None and (isinstance(percent, bool)
                                or not isinstance(percent, int | float) or percent < 0):
        raise QuotaError(f"'used_percent' must be a number >= 0, not {percent!r}")
    if percent is None and (used is None or limit is None):
        raise QuotaError("the command's JSON needs 'used_bytes' and 'limit_bytes', "
                         "or 'used_percent'")
    return quota_attributes(
        path, "command", used_bytes=used, limit_bytes=limit,
        used_percent=None if percent is None else int(percent * 10) / 10,
        files=_count(data, "files"), files_limit=_count(data, "files_limit"),
        marked_over=data.get("over_limit") is True)


def _count(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise QuotaError(f"'{key}' must be a whole number >= 0, not {value!r}")
    return value


# ---- lfs quota ---------------------------------------------------------------------------------
# lfs.c prints a title, "%15s%8s %7s%8s%8s%8s %7s%8s%8s" headers, then one row per filesystem:
# the mount name (alone on its own line when longer than 15 characters), then used, soft, hard,
# grace for blocks in KiB, the same for files. A value in brackets is inaccurate (some target
# did not answer; lfs then exits non-zero). A `*` right after a used value marks it over a limit
# (hard reached, or soft exceeded with its grace running: grace is then a time or "none");
# on a run that failed with EREMOTEIO lfs also appends one, so a single `*` is trusted only when
# lfs exited 0. `-h` prints sizes with k/M/G/T/P/E suffixes (powers of 1024 KiB).
_TITLE = re.compile(r"^Disk quotas for (?P<type>\S+) (?P<name>.*) \(\wid [^)]*\):")
_VALUE = re.compile(r"^(?P<open>\[?)(?P<number>\d+(?:\.\d+)?)(?P<unit>[kKMGTPE]?)(?P<close>\]?)"
                    r"(?P<stars>\*{0,2})$")
_KIB = {"": 1, "k": 1, "K": 1, "M": 2**10, "G": 2**20, "T": 2**30, "P": 2**40, "E": 2**50}


@dataclass(frozen=True)
class LfsValue:
    """One number as lfs printed it: KiB for blocks, a count for files."""

    number: int
    bracketed: bool = False
    stars: int = 0


@dataclass(frozen=True)
class LfsQuota:
    """One filesystem row of `lfs quota`; `owner` is e.g. "usr alice" or "prj 1234"."""

    filesystem: str
    owner: str
    used: LfsValue
    soft: LfsValue
    hard: LfsValue
    grace: str | None
    files: LfsValue
    files_soft: LfsValue
    files_hard: LfsValue
    files_grace: str | None

    @property
    def inaccurate(self) -> bool:
        """Whether lfs bracketed a value (`[...]`: its figures were not all reachable)."""
        return any(v.bracketed for v in (self.used, self.soft, self.hard, self.files,
                                         self.files_soft, self.files_hard))


def parse_lfs_quota(text: str) -> list[LfsQuota]:
    """Every filesystem total in `lfs quota` output (per-target `-v` rows are skipped)."""
    quotas: list[LfsQuota] = []
    owner, expecting, pending = "", False, None  # rows count only after a header (no -q)
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        if title := _TITLE.match(line.strip()):
            owner, expecting, pending = f"{title['type']} {title['name']}", False, None
        elif tokens[0] == "Filesystem":
            expecting = True
        elif not expecting:  # notes: "uid 1 is using default ...", "Some errors happened ..."
            continue
        elif pending is None and len(tokens) == 1 and not _VALUE.match(tokens[0]):
            pending = tokens[0]  # a long mount name: its values follow on the next line
        else:
            name, values = (pending, tokens) if pending is not None else (tokens[0], tokens[1:])
            quotas.append(_lfs_row(name, owner, values))
            expecting, pending = False, None
    return quotas


def _lfs_row(filesystem: str, owner: str, tokens: list[str]) -> LfsQuota:
    numbers: list[LfsValue] = []
    graces: dict[int, str | None] = {}  # a grace may be missing from hand-copied output
    for token in tokens:
        value = _VALUE.match(token)
        if value:
            numbers.append(_lfs_value(value, blocks=len(numbers) < 3))
        elif len(numbers) in (3, 6) and len(numbers) not in graces:
            graces[len(numbers)] = None if token == "-" else token
        else:
            raise QuotaError(f"lfs quota: unexpected {token!r} in the row of {filesystem}")
    if len(numbers) != 6:
        raise QuotaError(f"lfs quota: expected 6 numbers in the row of {filesystem}, "
                         f"got {len(numbers)}")
    return LfsQuota(filesystem, owner, *numbers[:3], graces.get(3), *numbers[3:], graces.get(6))


def _lfs_value(match: re.Match[str], *, blocks: bool) -> LfsValue:
    unit = match["unit"]
    if unit and not blocks:
        raise QuotaError(f"lfs quota: a file count with a unit ({match.group(0)!r}) is not "
                         "understood; run lfs without -h")
    return LfsValue(round(float(match["number"]) * _KIB[unit]), match["open"] == "[",
                    len(match["stars"]))


def lfs_attributes(path: str, stdout: str, returncode: int | None) -> dict[str, Any]:
    """Attributes from one `lfs quota` run: its first row, whatever the exit code."""
    rows = parse_lfs_quota(stdout)
    if not rows:
        raise QuotaError(f"lfs quota printed no quota row: {stdout.strip()[:200]!r}")
    q, ok = rows[0], returncode == 0
    limit = min((v.number for v in (q.soft, q.hard) if v.number), default=0) * 1024
    files_limit = min((v.number for v in (q.files_soft, q.files_hard) if v.number), default=0)
    marked = any(v.stars == 2 or (ok and v.stars == 1) for v in (q.used, q.files))
    return quota_attributes(path, "lfs", used_bytes=q.used.number * 1024,
                            limit_bytes=limit or None, files=q.files.number,
                            files_limit=files_limit or None, marked_over=marked,
                            grace=q.grace or q.files_grace, inaccurate=q.inaccurate or not ok)
