"""The state step: from an observation to events, diffed against the last snapshots, with health.

The last snapshot of every subject lives in the store (so a restart diffs against what was last
seen, not against nothing) and in memory (so a cycle over 10,000 jobs reads no rows and an idle
cycle writes none). Only what changed is written, in the caller's transaction, together with the
events it produced: a crash cannot separate an event from the state that caused it. The copy
in memory follows the transaction: changes are staged and applied only after the commit, so a
rolled-back cycle (a locked database, a failing rule) is seen again, not lost, by the next one.
`watcher.service.commit` runs this as the first step of an observation's commit path.

The first successful PBS poll with no history in the store is a baseline: jobs already
finished then (two weeks of `qstat -x` history) are adopted without events, so a new watcher
does not resubmit old walltime kills or mail about every old failure; a staged workflow's jobs
(tagged `WATCHER_WORKFLOW`) are the exception: their end is their workflow's news.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlmodel import Session, select

from watcher.events import APPEARED, Event
from watcher.kinds import kind_of
from watcher.sources.base import Observation
from watcher.state.diff import PrevEntry, diff_observation
from watcher.state.health import SourceHealthState, update_health
from watcher.store.models import Snapshot, SourceHealth
from watcher.workflows.jobs import workflow_of


class SourceState:
    """The in-memory copy of one source's snapshots and health, loaded once from the store."""

    def __init__(self, source: str, kind: str, session: Session) -> None:
        self.source = source
        self.kind = kind
        rows = session.exec(select(Snapshot).where(Snapshot.source == source)).all()
        self.previous: dict[str, PrevEntry] = {
            row.subject: PrevEntry(attrs=dict(row.attrs), missing_polls=row.missing_polls)
            for row in rows
        }
        health = session.get(SourceHealth, source)
        self._health_row = health is not None  # written on the first poll, then on changes
        # The last good answer, in memory only (an idle cycle writes nothing): it goes into the
        # row when the source starts failing, so `watcher status` can say since when.
        self._last_ok = health.last_ok_at if health else None
        # Only a kind with a history has one to ignore (PBS); a grafted Globus task that
        # already SUCCEEDED must count.
        self._baseline = kind_of(kind).has_history and not rows and health is None
        self.health = SourceHealthState(
            failures=health.failures if health else 0,
            healthy=health.healthy if health else True,
            down_emitted=health.down_emitted if health else False,
        )

    def apply(
        self, session: Session, obs: Observation, *, down_after: int, now: datetime
    ) -> list[Event]:
        """Diff `obs`, write what changed into `session`, and return the events.

        The copy in memory changes when `session` commits; on a rollback it stays as it was.
        """
        previous = dict(self.previous)
        new_health, events = update_health(self.health, obs, down_after=down_after, now=now)
        if new_health != self.health or not self._health_row:
            self._write_health(session, new_health, obs, now)
        baseline = False
        if obs.ok:  # unknown is not change: a failed poll touches no subject
            diff = diff_observation(_announce_again(previous, obs, self.kind), obs,
                                    kind=self.kind)
            self._write_snapshots(session, previous, diff.upserts, diff.missing, diff.forget, now)
            baseline, subject_events = self._baseline, diff.events
            if baseline:
                subject_events = [e for e in subject_events if not _already_over(e)]
            events = [*events, *subject_events]
        self._stage(session, previous, new_health, baseline, now if obs.ok else self._last_ok)
        return events

    def _stage(self, session: Session, previous: dict[str, PrevEntry],
               health: SourceHealthState, baseline_done: bool, last_ok: datetime | None) -> None:
        def commit(_session: Session) -> None:
            self.previous, self.health, self._health_row = previous, health, True
            self._last_ok = last_ok
            if baseline_done:
                self._baseline = False

        sa_event.listen(session, "after_commit", commit, once=True)

    def subjects(self) -> Mapping[str, Mapping[str, Any]]:
        """The last known attributes of each subject, as of the last commit."""
        return {subject: entry.attrs for subject, entry in self.previous.items()}

    def _write_snapshots(
        self,
        session: Session,
        previous: dict[str, PrevEntry],
        upserts: Mapping[str, dict[str, Any]],
        missing: Mapping[str, int],
        forget: set[str],
        now: datetime,
    ) -> None:
        for subject, attrs in upserts.items():
            # The copy mirrors the store: a subject it never saw has no row to look up.
            row = session.get(Snapshot, (self.source, subject)) if subject in previous else None
            if row is None:
                session.add(Snapshot(source=self.source, subject=subject, attrs=attrs,
                                     seen_at=now, missing_polls=0))
            else:
                row.attrs, row.seen_at, row.missing_polls = attrs, now, 0
            previous[subject] = PrevEntry(attrs=attrs, missing_polls=0)
        for subject, count in missing.items():
            if subject in forget or previous[subject].missing_polls == count:
                continue
            row = session.get(Snapshot, (self.source, subject))
            if row is not None:
                row.missing_polls = count
            previous[subject] = PrevEntry(attrs=previous[subject].attrs, missing_polls=count)
        for subject in forget:
            row = session.get(Snapshot, (self.source, subject))
            if row is not None:
                session.delete(row)
            previous.pop(subject, None)

    def _write_health(
        self, session: Session, state: SourceHealthState, obs: Observation, now: datetime
    ) -> None:
        row = session.get(SourceHealth, self.source) or SourceHealth(source=self.source)
        row.healthy, row.failures, row.down_emitted = (
            state.healthy, state.failures, state.down_emitted)
        if obs.ok:
            row.last_ok_at = now  # healthy since now: later good polls are not written
        else:
            row.last_ok_at, row.last_error = self._last_ok or row.last_ok_at, obs.error
        session.add(row)


def _announce_again(previous: dict[str, PrevEntry], obs: Observation, kind: str
                    ) -> dict[str, PrevEntry]:
    """`previous` without the subjects a source says were just put on its watch list while
    already over (a Globus task that ended before it was grafted into a workflow): their
    next event is APPEARED again, so the rules of whoever asked to watch them see the end.
    A rule that already saw that end (a `label:` rule on the user's own tasks) remembers it
    is inside and does not fire again (`watcher.engine.engine`)."""
    again = {s for s in obs.detail.get("rewatched", ()) if s in previous
             and kind_of(kind).aged_out(previous[s].attrs)}
    if not again:
        return previous
    return {s: entry for s, entry in previous.items() if s not in again}


def _already_over(event: Event) -> bool:
    """A subject first seen, at the baseline, in a final state (a finished job) that is
    nobody's news. A workflow's job is: its workflow may have submitted and released it
    before this watcher's first poll (a `watcher stage submit` ahead of `watcher run`, a run
    killed before it polled), and only its end moves the workflow on; a job of a workflow that
    ended moves nothing (its step has its verdict)."""
    return (event.change == APPEARED and event.current is not None
            and kind_of(event.kind).aged_out(event.current)
            and workflow_of(event.current) is None)
