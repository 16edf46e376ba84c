"""Time formats PBS prints: C ctime() in local time, scheduler comments, accounting, HH:MM:SS."""

from __future__ import annotations

import re
import time

_DURATION = re.compile(r"^(?:(?:(\d+):)?(\d+):)?(\d+)(?:\.\d*)?$")


def ctime(epoch: float) -> str:
    """`Tue Oct  4 21:23:20 2022`: what qstat prints for ctime/qtime/etime/stime/mtime/obittime."""
    return time.ctime(epoch)


def comment_time(epoch: float) -> str:
    """The scheduler's `Job run at Tue Oct 04 at 21:23 on ...` date (note: zero-padded day)."""
    return time.strftime("%a %b %d at %H:%M", time.localtime(epoch))


def accounting_time(epoch: float) -> str:
    """`MM/DD/YYYY HH:MM:SS`, the accounting record prefix."""
    return time.strftime("%m/%d/%Y %H:%M:%S", time.localtime(epoch))


def accounting_day(epoch: float) -> str:
    """Accounting files are named by day: `YYYYMMDD`."""
    return time.strftime("%Y%m%d", time.localtime(epoch))


def hms(seconds: float) -> str:
    """`00:00:30`; hours grow past 99 as PBS does (`45682:59:56`)."""
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}"


def parse_duration(text: str) -> int | None:
    """Seconds from `[[HH:]MM:]SS[.fff]`; None when malformed (PBS rejects the value)."""
    match = _DURATION.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds
