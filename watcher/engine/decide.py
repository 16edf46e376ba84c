"""Edge semantics, `for:` windows and firing limits, as a pure state machine.

The engine keeps one `EdgeState` per (rule, subject). A rule fires when its subject *enters* the
trigger's condition (an edge, not a level), once per entry. With `for:`, entering only opens a
window; the rule fires when a later tick finds the window elapsed with the subject still inside.
Leaving the condition closes the window. Limits (`once`, `max_fires`, `cooldown`) are checked at
the moment of firing, so a suppressed firing is reported with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from watcher.lang.durations import format_duration


@dataclass(frozen=True)
class EdgeState:
    """What the engine remembers about one rule for one subject (persisted in the store)."""

    in_condition: bool = False
    pending_since: datetime | None = None
    pending_event_id: int | None = None
    fire_count: int = 0
    last_fired_at: datetime | None = None


@dataclass(frozen=True)
class Limits:
    """The parts of a rule that decide *when* it may fire."""

    for_: timedelta | None = None
    once: bool = False
    max_fires: int | None = None
    cooldown: timedelta | None = None


class Verdict(Enum):
    """What a rule does with one subject at one moment."""

    FIRE = "fire"  # run the actions now
    PENDING = "pending"  # a `for:` window opened
    CANCELLED = "cancelled"  # the subject left before the window elapsed
    SUPPRESSED = "suppressed"  # would fire, but a limit says no
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    """A verdict, the rule's edge state for the subject after it, and why (for the firing log)."""

    verdict: Verdict
    edge: EdgeState
    reason: str = ""


def blocked_by_limits(limits: Limits, edge: EdgeState, now: datetime) -> str | None:
    """Why the rule may not fire now, or None."""
    if limits.once and edge.fire_count >= 1:
        return "once: already fired"
    if limits.max_fires is not None and edge.fire_count >= limits.max_fires:
        return f"max_fires: fired {edge.fire_count} of {limits.max_fires} times"
    if limits.cooldown and edge.last_fired_at is not None:
        ready = edge.last_fired_at + limits.cooldown
        if now < ready:
            wait = format_duration(limits.cooldown)
            return f"cooldown: {wait} not over until {ready.isoformat()}"
    return None


def _fire_or_suppress(limits: Limits, edge: EdgeState, now: datetime, why: str) -> Decision:
    blocked = blocked_by_limits(limits, edge, now)
    if blocked:
        return Decision(Verdict.SUPPRESSED, edge, blocked)
    return Decision(Verdict.FIRE, edge, why)


def fired(edge: EdgeState, now: datetime) -> EdgeState:
    """The edge state after the rule really fired (conditions held, actions enqueued)."""
    return replace(edge, fire_count=edge.fire_count + 1, last_fired_at=now,
                   pending_since=None, pending_event_id=None)


def on_event(
    limits: Limits,
    edge: EdgeState,
    *,
    entered: bool,
    holding: bool,
    at: datetime,
    event_id: int | None,
    why: str,
) -> Decision:
    """React to one event about the rule's subject.

    `entered`: some trigger saw the subject enter its condition with this event.
    `holding`: the subject is inside some trigger's condition after this event.
    """
    if entered:
        inside = replace(edge, in_condition=True)
        if limits.for_ is None:
            return _fire_or_suppress(limits, inside, at, why)
        if edge.pending_since is not None:  # already counting: the window keeps its start
            return Decision(Verdict.NONE, inside)
        opened = replace(inside, pending_since=at, pending_event_id=event_id)
        after = format_duration(limits.for_)
        return Decision(Verdict.PENDING, opened, f"{why}; firing after {after} if it holds")
    if holding or not edge.in_condition:
        return Decision(Verdict.NONE, edge)
    left = replace(edge, in_condition=False, pending_since=None, pending_event_id=None)
    if edge.pending_since is not None:
        return Decision(Verdict.CANCELLED, left, "left the condition before the for: window")
    return Decision(Verdict.NONE, left)


def on_tick(limits: Limits, edge: EdgeState, now: datetime) -> Decision:
    """Fire a `for:` window that has elapsed with the subject still inside."""
    if limits.for_ is None or edge.pending_since is None or not edge.in_condition:
        return Decision(Verdict.NONE, edge)
    if now < edge.pending_since + limits.for_:
        return Decision(Verdict.NONE, edge)
    why = f"held for {format_duration(limits.for_)} since {edge.pending_since.isoformat()}"
    decision = _fire_or_suppress(limits, edge, now, why)
    if decision.verdict is Verdict.SUPPRESSED:  # close the window: one decision per entry
        closed = replace(edge, pending_since=None, pending_event_id=None)
        return Decision(Verdict.SUPPRESSED, closed, decision.reason)
    return decision
