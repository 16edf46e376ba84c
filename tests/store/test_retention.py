"""Old finished history is forgotten; what is unfinished, failed or still needed stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from watcher.store.db import Store
from watcher.store.models import (
    DEAD,
    DONE,
    FAILED,
    PENDING,
    SKIPPED,
    EventRecord,
    Firing,
    Intent,
    RuleState,
)
from watcher.store.retention import prune

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=1)
CUTOFF = NOW - timedelta(days=30)


def event(session: Session, subject: str, at: datetime) -> int:
    record = EventRecord(kind="pbs_job", subject=subject, change="changed", at=at,
                         previous={"state": "R"}, current={"state": "F"})
    session.add(record)
    session.flush()
    assert record.id is not None
    return record.id


def firing(session: Session, name: str, at: datetime, *intents: tuple[str, datetime]) -> int:
    """A firing of rule `name` for subject `name`, with an intent per (status, updated_at)."""
    row = Firing(rule=name, subject=name, event_id=event(session, name, at), at=at)
    session.add(row)
    session.flush()
    assert row.id is not None
    for step, (status, updated) in enumerate(intents):
        session.add(Intent(key=f"{name}:{step}", firing_id=row.id, rule=name, step=step,
                           action_type="qrls", status=status, created_at=at, updated_at=updated))
    return row.id


def remaining(store: Store) -> tuple[set[str], set[str], set[str]]:
    with store.session(write=False) as s:
        return ({f.rule for f in s.exec(select(Firing)).all()},
                {i.key for i in s.exec(select(Intent)).all()},
                {e.subject for e in s.exec(select(EventRecord)).all()})


def test_old_finished_history_goes_and_everything_still_needed_stays(store: Store) -> None:
    with store.session() as s:
        firing(s, "done-old", OLD, (DONE, OLD), (SKIPPED, OLD))
        firing(s, "done-recent", RECENT, (DONE, RECENT))
        firing(s, "retried-lately", OLD, (DONE, RECENT))  # finished within the retention
        firing(s, "pending-old", OLD, (DONE, OLD), (PENDING, OLD))
        firing(s, "dead-old", OLD, (DEAD, OLD))
        firing(s, "failed-old", OLD, (FAILED, OLD))
        firing(s, "grouped-old", OLD)  # its mail went into another firing's digest
        s.add(Intent(key="loose-old", rule="x", action_type="email", status=DONE,
                     created_at=OLD, updated_at=OLD))
        s.add(Intent(key="loose-pending", rule="x", action_type="email", status=PENDING,
                     created_at=OLD, updated_at=OLD))
        event(s, "plain-old", OLD)  # no rule fired
        event(s, "plain-recent", RECENT)
        window = event(s, "window-start", OLD)  # an open `for:` window started here
        event(s, "window-start", OLD + timedelta(days=1))  # a later event of that subject
        s.add(RuleState(rule="r", subject="window-start", in_condition=True,
                        pending_since=OLD, pending_event_id=window))
    with store.session() as s:
        pruned = prune(s, before=CUTOFF)
    assert (pruned.firings, pruned.intents) == (2, 3)
    firings, intents, events = remaining(store)
    assert firings == {"done-recent", "retried-lately", "pending-old", "dead-old", "failed-old"}
    assert intents == {"done-recent:0", "retried-lately:0", "pending-old:0", "pending-old:1",
                       "dead-old:0", "failed-old:0", "loose-pending"}
    assert events == firings | {"plain-recent", "window-start"}
    assert pruned.events == 3  # done-old, grouped-old, plain-old
    with store.session() as s:
        assert not prune(s, before=CUTOFF)  # nothing left to forget: nothing written


def test_the_store_keeps_working_after_a_prune(store: Store) -> None:
    with store.session() as s:
        firing(s, "a", OLD, (DONE, OLD))
    with store.session() as s:
        prune(s, before=CUTOFF)
    with store.session() as s:  # new history gets new ids, nothing collides
        firing(s, "a", RECENT, (DONE, RECENT))
    assert remaining(store)[0] == {"a"}


def test_the_newest_event_stays_so_its_id_is_never_handed_out_again(store: Store) -> None:
    with store.session() as s:
        ids = [event(s, "a", OLD), event(s, "b", OLD)]
    with store.session() as s:
        assert prune(s, before=CUTOFF).events == 1
    with store.session() as s:  # every event was old; the newest one is kept all the same
        assert [e.id for e in s.exec(select(EventRecord)).all()] == ids[1:]
        assert event(s, "c", RECENT) > ids[1]
