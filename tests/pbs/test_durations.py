"""PBS times in templates: `job.resources.walltime * 2` renders what qsub reads back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watcher import templating
from watcher.pbs.durations import PbsDuration, job_view, parse_pbs_time


@pytest.mark.parametrize(("text", "seconds"), [
    ("02:00:00", 7200), ("100:00:00", 360000), ("30:00", 1800), ("90", 90), (45, 45)])
def test_parse_pbs_time(text: object, seconds: int) -> None:
    assert parse_pbs_time(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["1:ncpus=2", "", None, True, "2h"])
def test_not_a_pbs_time(text: object) -> None:
    assert parse_pbs_time(text) is None


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ job.resources.walltime * 2 }}", "04:00:00"),
    ("{{ job.resources.walltime * 1.5 }}", "03:00:00"),
    ("{{ job.resources.walltime + 3600 }}", "03:00:00"),
    ("{{ job.resources.walltime / 4 }}", "00:30:00"),
    ("{{ job.resources.walltime * 20 }}", "40:00:00"),
    ("{{ job.used.walltime > job.resources.walltime * 0.9 }}", "True"),
    ("{{ job.resources.ncpus }} {{ job.resources.select }}", "4 1:ncpus=4"),
])
def test_arithmetic_in_templates(template: str, expected: str) -> None:
    attrs = {"resources": {"walltime": "02:00:00", "ncpus": 4, "select": "1:ncpus=4"},
             "used": {"walltime": "01:59:58", "cput": "00:00:01"}}
    assert templating.render(template, {"job": job_view(attrs)}) == expected


def test_durations_stay_durations() -> None:
    value = PbsDuration(hours=1)
    assert isinstance(value * 2 - PbsDuration(minutes=1), PbsDuration)
    assert str(-value) == "-01:00:00"
