"""Whether a source answers, as an edge: one `source_down` after N failures, one `source_up`.

Pure: the caller stores the state and passes the clock. A single failed poll is common (a slow
server, a restart) and only makes the source "not healthy"; users hear about it once
`down_after` polls in a row have failed, and hear once more when it answers again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.events import SOURCE_DOWN, SOURCE_UP, Event
from watcher.sources.base import Observation


@dataclass(frozen=True)
class SourceHealthState:
    """Failed polls in a row, whether the last poll answered, and whether DOWN was sent."""

    failures: int = 0
    healthy: bool = True
    down_emitted: bool = False


def update_health(
    state: SourceHealthState, obs: Observation, *, down_after: int, now: datetime
) -> tuple[SourceHealthState, list[Event]]:
    """The state after `obs`, and the SOURCE_DOWN / SOURCE_UP event it causes, if any."""
    if obs.ok:
        if not state.down_emitted:
            return SourceHealthState(), []
        up = Event(SOURCE_UP, obs.source, now, current={"source": obs.source, "up": True},
                   data={"failures": state.failures})
        return SourceHealthState(), [up]
    failures = state.failures + 1
    if state.down_emitted or failures < max(down_after, 1):
        return SourceHealthState(failures, False, state.down_emitted), []
    # `current` is what source triggers read (`up`), so a for: window on an outage holds.
    down = Event(
        SOURCE_DOWN, obs.source, now, current={"source": obs.source, "up": False},
        data={"error": obs.error or "", "failures": failures},
    )
    return SourceHealthState(failures, False, True), [down]
