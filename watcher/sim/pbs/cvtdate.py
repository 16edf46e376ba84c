"""`cvtdate()`: POSIX touch dates `[[[[CC]YY]MM]DD]hhmm[.SS]` to epoch seconds, as qselect does.

A port of OpenPBS src/lib/Libcmds/cvtdate.c, quirks included, because `qselect -t` and `-a`
convert their time on the client with it (in the client's local time zone, `mktime` with
`tm_isdst = -1`) and send the server only the resulting epoch number:

- a missing century is 20 for YY < 69, else 19;
- a missing year is this year, or next year when MM is *before* the current month;
- a missing month is this month, or the next one when DD is before today;
- `hhmm` alone is today, or tomorrow when it is not later than the current minute.

So the short forms name a time in the future, which suits `qsub -a` but not "changed since":
a caller asking about the past must give all twelve digits (CCYYMMDDhhmm) and the seconds.
"""

from __future__ import annotations

import time


def cvtdate(text: str, now: float | None = None) -> int | None:
    """Epoch seconds of `text`, or None where cvtdate returns -1 (the caller's "illegal")."""
    datestr, dot, secs = text.partition(".")
    tm_sec = 0
    if dot:
        if len(secs) != 2 or not secs.isdigit():
            return None
        tm_sec = int(secs)
        if tm_sec > 59:
            return None
    if not all("0" <= c <= "9" for c in datestr):
        return None
    local = time.localtime(time.time() if now is None else now)
    year, mon, mday = local.tm_year, local.tm_mon - 1, local.tm_mday  # mon 0-based, as in C
    century, month, day = 0, -1, 0
    n = len(datestr)
    if n not in (4, 6, 8, 10, 12):
        return None
    pos = 0
    if n == 12:
        century = int(datestr[0:2]) * 100
        pos = 2
    if n >= 10:
        yy = int(datestr[pos:pos + 2])
        year = (1900 + yy if yy > 68 else 2000 + yy) if century == 0 else century + yy
        pos += 2
    if n >= 8:
        month_1 = int(datestr[pos:pos + 2])
        if month_1 < 1 or month_1 > 12:
            return None
        if n == 8 and month_1 <= local.tm_mon - 1:  # `i <= ptm->tm_mon`: an earlier month
            year += 1
        month = mon = month_1 - 1
        pos += 2
    if n >= 6:
        day = int(datestr[pos:pos + 2])
        if day < 1 or day > 31:
            return None
        if month == -1 and day < local.tm_mday:
            mon += 1
        mday = day
        pos += 2
    hour, minute = int(datestr[pos:pos + 2]), int(datestr[pos + 2:pos + 4])
    if hour > 23 or minute > 59:
        return None
    if day == 0 and (hour, minute) <= (local.tm_hour, local.tm_min):
        mday += 1  # time for tomorrow
    # mktime() normalises an out-of-range month or day (month 12 -> January next year).
    return int(time.mktime((year, mon + 1, mday, hour, minute, tm_sec, 0, 0, -1)))
