"""`diff_observation`: which observations become which events, and what is stored back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watcher.events import APPEARED, CHANGED, PBS_JOB, SOURCE_UP, VANISHED
from watcher.sources.base import Observation
from watcher.state.diff import PrevEntry, diff_observation

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def job(state: str = "R", **fields: Any) -> dict[str, Any]:
    attrs = {
        "id": "1.pbs",
        "name": "sim",
        "owner": "alice",
        "queue": "workq",
        "state": state,
        "substate": 42,
        "exit_status": None,
        "hold_types": "n",
        "comment": "",
        "run_count": 1,
        "depend": "",
        "submit_arguments": "",
        "variables": {},
    }
    return attrs | fields


def seen(subjects: dict[str, dict[str, Any]], **kw: Any) -> Observation:
    return Observation("pbs", True, T0, subjects=subjects, **kw)


def down() -> Observation:
    return Observation.failed("pbs", T0, "qstat: cannot connect to server pbs (errno=111)")


def diff(previous: dict[str, PrevEntry], obs: Observation, **kw: Any):
    return diff_observation(previous, obs, kind=PBS_JOB, **kw)


def test_a_new_job_appears() -> None:
    result = diff({}, seen({"1.pbs": job("Q", substate=10)}))
    [event] = result.events
    assert (event.kind, event.subject, event.change, event.at) == (PBS_JOB, "1.pbs", APPEARED, T0)
    assert event.previous is None and event.current == job("Q", substate=10)
    assert result.upserts == {"1.pbs": job("Q", substate=10)}
    assert not result.missing and not result.forget


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        (job("Q", substate=10), job("R", substate=42), ["state", "substate"]),
        (job("R"), job("F", substate=93, exit_status=-29), ["exit_status", "state", "substate"]),
        (job("H", hold_types="u"), job("Q", hold_types="n"), ["hold_types", "state"]),
        (job(run_count=1), job(run_count=2), ["run_count"]),
        (job(queue="workq"), job(queue="long"), ["queue"]),
        (job(name="a"), job(name="b"), ["name"]),
        (job(variables={"A": "1"}), job(variables={"A": "2"}), ["variables"]),
    ],
)
def test_a_watched_field_change_is_one_event(before: dict, after: dict, moved: list) -> None:
    result = diff({"1.pbs": PrevEntry(before)}, seen({"1.pbs": after}))
    [event] = result.events
    assert (event.change, event.previous, event.current) == (CHANGED, before, after)
    assert event.data["changed"] == moved
    assert result.upserts == {"1.pbs": after}


def test_unwatched_changes_are_stored_without_an_event() -> None:
    before = job(comment="Not Running: Insufficient amount of resource: ncpus (R: 2 A: 0 T: 2)")
    after = job(comment="Not Running: Insufficient amount of resource: ncpus (R: 2 A: 1 T: 2)",
                resources_used={"walltime": "00:10:00"})
    result = diff({"1.pbs": PrevEntry(before)}, seen({"1.pbs": after}))
    assert result.events == [] and result.upserts == {"1.pbs": after}


def test_nothing_changed_writes_nothing() -> None:
    result = diff({"1.pbs": PrevEntry(job())}, seen({"1.pbs": job()}))
    assert (result.events, result.upserts, result.missing, result.forget) == ([], {}, {}, set())


def test_vanished_only_after_two_healthy_misses() -> None:
    prev = {"1.pbs": PrevEntry(job())}
    first = diff(prev, seen({}))
    assert first.events == [] and first.missing == {"1.pbs": 1} and not first.forget
    second = diff({"1.pbs": PrevEntry(job(), missing_polls=1)}, seen({}))
    [event] = second.events
    assert (event.change, event.previous, event.current) == (VANISHED, job(), None)
    assert second.forget == {"1.pbs"} and not second.missing


def test_unhealthy_polls_change_nothing_and_do_not_count_as_misses() -> None:
    prev = {"1.pbs": PrevEntry(job(), missing_polls=1)}
    result = diff(prev, down())
    assert (result.events, result.upserts, result.missing, result.forget) == ([], {}, {}, set())


def test_missing_across_an_outage_still_needs_two_healthy_misses() -> None:
    previous = {"1.pbs": PrevEntry(job())}
    for obs in (seen({}), down(), down()):
        result = diff(previous, obs)
        for subject, count in result.missing.items():
            previous[subject] = PrevEntry(previous[subject].attrs, count)
        assert result.events == []
    assert previous["1.pbs"].missing_polls == 1
    assert [e.change for e in diff(previous, seen({})).events] == [VANISHED]


def test_a_finished_job_ages_out_of_history_silently() -> None:
    finished = job("F", substate=92, exit_status=0)
    first = diff({"1.pbs": PrevEntry(finished)}, seen({}))
    assert first.events == [] and first.missing == {"1.pbs": 1}
    second = diff({"1.pbs": PrevEntry(finished, missing_polls=1)}, seen({}))
    assert second.events == [] and second.forget == {"1.pbs"}


def test_coming_back_before_the_second_miss_resets_without_an_event() -> None:
    result = diff({"1.pbs": PrevEntry(job(), missing_polls=1)}, seen({"1.pbs": job()}))
    assert result.events == [] and result.upserts == {"1.pbs": job()}  # count back to 0


def test_coming_back_changed_is_a_change() -> None:
    result = diff({"1.pbs": PrevEntry(job(), missing_polls=1)}, seen({"1.pbs": job("E")}))
    assert [e.change for e in result.events] == [CHANGED]


def test_positively_unknown_ids_count_as_misses() -> None:
    result = diff({"1.pbs": PrevEntry(job())}, seen({}, missing_ok={"1.pbs"}))
    assert result.missing == {"1.pbs": 1} and result.events == []


def test_unreadable_jobs_neither_change_nor_vanish() -> None:
    prev = {"1.pbs": PrevEntry(job(), missing_polls=1)}
    result = diff(prev, seen({}, unreadable={"1.pbs"}))
    assert (result.events, result.upserts, result.missing, result.forget) == ([], {}, {}, set())


def test_tracked_picks_new_subjects_but_known_ones_are_followed() -> None:
    mine = lambda attrs: attrs["owner"] == "alice"  # noqa: E731
    result = diff({}, seen({"1.pbs": job(), "2.pbs": job(owner="bob")}), tracked=mine)
    assert set(result.upserts) == {"1.pbs"} and [e.subject for e in result.events] == ["1.pbs"]
    known = {"2.pbs": PrevEntry(job(owner="alice"))}
    result = diff(known, seen({"2.pbs": job("E", owner="bob")}), tracked=mine)
    assert [e.change for e in result.events] == [CHANGED]


def test_a_table_of_many_jobs_at_once() -> None:
    previous = {
        "1.pbs": PrevEntry(job("Q")),  # runs
        "2.pbs": PrevEntry(job()),  # unchanged
        "3.pbs": PrevEntry(job(), missing_polls=1),  # gone
        "4.pbs": PrevEntry(job("F")),  # aging out
    }
    obs = seen({"1.pbs": job("R"), "2.pbs": job(), "5.pbs": job("Q")})
    result = diff(previous, obs)
    assert sorted((e.subject, e.change) for e in result.events) == [
        ("1.pbs", CHANGED),
        ("3.pbs", VANISHED),
        ("5.pbs", APPEARED),
    ]
    assert set(result.upserts) == {"1.pbs", "5.pbs"}
    assert result.missing == {"4.pbs": 1} and result.forget == {"3.pbs"}


def test_a_kind_without_a_field_list_compares_every_field() -> None:
    before, after = {"status": "ACTIVE", "bytes": 1}, {"status": "ACTIVE", "bytes": 2}
    result = diff_observation({"t": PrevEntry(before)}, seen({"t": after}), kind=SOURCE_UP)
    assert [e.data["changed"] for e in result.events] == [["bytes"]]


def test_events_carry_the_observation_time() -> None:
    later = T0 + timedelta(minutes=5)
    obs = Observation("pbs", True, later, subjects={"1.pbs": job()})
    assert diff({}, obs).events[0].at == later
