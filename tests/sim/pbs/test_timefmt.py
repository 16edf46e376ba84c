"""Time formats: ctime with padded day, comment dates, accounting stamps, durations."""

from __future__ import annotations

import time

import pytest

from watcher.sim.pbs import timefmt


def test_ctime_pads_the_day_with_a_space_like_c() -> None:
    epoch = time.mktime((2022, 10, 4, 21, 23, 20, 0, 0, -1))
    assert timefmt.ctime(epoch) == "Tue Oct  4 21:23:20 2022"
    assert timefmt.comment_time(epoch) == "Tue Oct 04 at 21:23"
    assert timefmt.accounting_time(epoch) == "10/04/2022 21:23:20"
    assert timefmt.accounting_day(epoch) == "20221004"


@pytest.mark.parametrize(("text", "seconds"), [("00:05:00", 300), ("60", 60), ("1:30", 90),
                                               ("100:00:01", 360001), ("5.5", 5)])
def test_durations_parse(text: str, seconds: int) -> None:
    assert timefmt.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1:2:3:4", "-5"])
def test_bad_durations_are_refused(text: str) -> None:
    assert timefmt.parse_duration(text) is None


def test_hms_keeps_growing_hours() -> None:
    assert timefmt.hms(30) == "00:00:30"
    assert timefmt.hms(164459996) == "45683:19:56"
