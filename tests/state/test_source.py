"""SourceState follows the store's transaction, and a new watcher is quiet about history."""

from datetime import UTC, datetime, timedelta

import pytest

from watcher.events import PBS_JOB
from watcher.sources.base import Observation
from watcher.state.source import SourceState
from watcher.store.models import SourceHealth

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job(state, exit_status=None):
    return {"id": "1.s", "name": "a", "owner": "u", "queue": "q", "state": state,
            "substate": None, "exit_status": exit_status, "hold_types": "n", "run_count": 0,
            "variables": {}}


def seen(**subjects):
    return Observation("pbs", True, T0, subjects={k.replace("_", "."): v
                                                  for k, v in subjects.items()})


def test_a_rolled_back_cycle_is_seen_again_by_the_next(store):
    with store.session() as s:
        memory = SourceState("pbs", PBS_JOB, s)
        memory.apply(s, seen(**{"1_s": job("R")}), down_after=3, now=T0)
    with pytest.raises(RuntimeError), store.session() as s:
        events = memory.apply(s, seen(**{"1_s": job("F", 0)}), down_after=3, now=T0)
        assert [e.current["state"] for e in events] == ["F"]
        raise RuntimeError("the engine failed: the transaction rolls back")
    with store.session() as s:  # the R->F edge is not lost
        events = memory.apply(s, seen(**{"1_s": job("F", 0)}), down_after=3, now=T0)
    assert [(e.previous["state"], e.current["state"]) for e in events] == [("R", "F")]


def test_the_first_poll_adopts_finished_jobs_without_events(store):
    with store.session() as s:
        memory = SourceState("pbs", PBS_JOB, s)
        first = memory.apply(s, Observation("pbs", True, T0, subjects={
            "1.s": job("F", -29), "2.s": {**job("Q"), "id": "2.s"}}), down_after=3, now=T0)
    assert [e.subject for e in first] == ["2.s"]
    with store.session() as s:  # later, a job that appears already finished does fire
        later = memory.apply(s, Observation("pbs", True, T0, subjects={
            "1.s": job("F", -29), "2.s": {**job("Q"), "id": "2.s"},
            "3.s": {**job("F", 1), "id": "3.s"}}), down_after=3, now=T0)
    assert [e.subject for e in later] == ["3.s"]


def test_the_first_poll_still_reports_a_finished_workflow_job(store):
    """A staged workflow's job can be released and end before this watcher's first poll (it
    was submitted by `watcher stage submit`, released by a run killed before it polled): its
    end is the workflow's news, so the baseline lets it through."""
    tagged = {**job("F", 0), "id": "4.s", "variables": {
        "WATCHER_WORKFLOW": "wf-abc123", "WATCHER_STEP": "prep"}}
    with store.session() as s:
        memory = SourceState("pbs", PBS_JOB, s)
        first = memory.apply(s, Observation("pbs", True, T0, subjects={
            "1.s": job("F", -29), "4.s": tagged}), down_after=3, now=T0)
    assert [(e.subject, e.current["state"]) for e in first] == [("4.s", "F")]


def test_status_learns_the_last_good_answer_when_polls_start_failing(store):
    with store.session() as s:
        memory = SourceState("pbs", PBS_JOB, s)
    for minute in range(3):  # good polls after the first write nothing
        with store.session() as s:
            memory.apply(s, seen(), down_after=3, now=T0 + timedelta(minutes=minute))
    with store.session() as s:
        assert s.get(SourceHealth, "pbs").last_ok_at == T0  # healthy since the first
    with store.session() as s:
        memory.apply(s, Observation.failed("pbs", T0, "Connection refused"), down_after=3,
                     now=T0 + timedelta(minutes=3))
    with store.session() as s:
        row = s.get(SourceHealth, "pbs")
        assert (row.healthy, row.failures, row.last_error) == (False, 1, "Connection refused")
        assert row.last_ok_at == T0 + timedelta(minutes=2)  # the last answer, not the first
