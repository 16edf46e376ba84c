"""`Observation`: a failed poll cannot carry subjects that would read as 'all vanished'."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.sources.base import Observation

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def test_failed_observation_is_empty_and_says_why() -> None:
    obs = Observation.failed("pbs", T0, "timed out", {"returncode": None})
    assert (obs.ok, obs.subjects, obs.error, obs.detail) == (
        False,
        {},
        "timed out",
        {"returncode": None},
    )


def test_a_failed_observation_with_subjects_is_refused() -> None:
    with pytest.raises(ValueError, match="no subjects"):
        Observation("pbs", False, T0, subjects={"1.pbs": {}})
