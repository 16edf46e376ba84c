"""Keeping workflow records up to date from the events of each poll.

`track(session, events, now)` runs in the transaction that records the events, before the
engine evaluates them, so a rule firing on an event reads the workflow as the event left it.
Each event's step is found by `watcher.workflows.graph_track` (a job by its `WATCHER_WORKFLOW`
variable, a task by its label); events of other subjects cost one dictionary look-up (jobs)
or one primary-key read (unlabelled tasks). A task seen to its end is taken off the watch list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from watcher.events import GLOBUS_TASK, Event
from watcher.globus.task_fields import TERMINAL
from watcher.store.watch import unwatch
from watcher.workflows import graph_track


def track(session: Session, events: Sequence[Event], now: datetime) -> None:
    """Apply every event that concerns a workflow to its record."""
    for event in events:
        if graph_track.track(session, event, now) and event.kind == GLOBUS_TASK and (
                event.current or {}).get("status") in TERMINAL:
            unwatch(session, "globus", event.subject)  # seen to its end: nothing more to ask
