"""Replay a timeline against rules with the service's own parts, in a throwaway store.

Each step goes through `SourceState.apply` (diff, health, vanishing after two healthy misses)
and `Engine.process`, as a poll does in `Service`; between steps the clock jumps to each moment
`Engine.next_due` names and `Engine.tick` fires the `for:` windows due then, so a window fires at
its exact due time. A window due at the very moment of a step fires before that step's poll, as
the service's once-a-second tick would. Actions are not run: a firing's intents are read back
from the store, rendered, so the output shows exactly what the service would enqueue.
"""

from __future__ import annotations

import copy
import tempfile
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from watcher.engine.decide import Verdict
from watcher.engine.engine import Engine, FiringReport
from watcher.events import PBS_JOB, Event
from watcher.ledger.deferred import DEFERRED
from watcher.replay.timeline import Step, Timeline
from watcher.rules.model import Rule
from watcher.sources.base import Observation
from watcher.state.source import SourceState
from watcher.store.db import Store, open_store
from watcher.store.models import DEAD, Firing, Intent

SOURCE = "pbs"  # the name `PbsSource` polls under, so `source_down: pbs` rules apply
_Key = tuple[str, str]  # (rule, subject)


@dataclass(frozen=True)
class PlannedAction:
    """One action a firing would run. `params` are rendered as the intent holds them; `written`
    keeps only those the rule wrote. `error`: a template failed, the intent is born dead."""

    step: int
    type: str
    params: dict[str, Any]
    written: dict[str, Any]
    error: str | None = None
    # One intent for a group of firings (`group_by`): the same intent in each of them.
    grouped: bool = False

    def __str__(self) -> str:
        return f"{self.type}({', '.join(f'{k}={v}' for k, v in self.written.items())})"


@dataclass(frozen=True)
class Decision:
    """What the engine decided for one rule and subject at one moment (never Verdict.NONE)."""

    at: datetime
    rule: str
    subject: str
    verdict: Verdict
    reason: str
    actions: tuple[PlannedAction, ...] = ()


@dataclass
class ReplayResult:
    """Every event and decision of a replay, in the order they happened (an event comes before
    the decisions it caused; a tick's decisions come before the poll of the same moment)."""

    timeline: Timeline
    log: list[Event | Decision] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        """The events of the log, in order."""
        return [entry for entry in self.log if isinstance(entry, Event)]

    @property
    def decisions(self) -> list[Decision]:
        """The rule decisions of the log (fire or not), in order."""
        return [entry for entry in self.log if isinstance(entry, Decision)]

    @property
    def firings(self) -> list[Decision]:
        """The decisions that fired, in order."""
        return [d for d in self.decisions if d.verdict is Verdict.FIRE]


def replay(rules: Sequence[Rule], timeline: Timeline) -> ReplayResult:
    """Run `timeline` against `rules` in a temporary SQLite store, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="watcher-replay-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'replay.db'}")
        try:
            return _Replay(store, rules, timeline).run()
        finally:
            store.close()


class _Replay:
    def __init__(self, store: Store, rules: Sequence[Rule], timeline: Timeline) -> None:
        self.store, self.timeline = store, timeline
        self.engine = Engine(rules, user={"name": timeline.user, "email": timeline.email})
        self.rules = {rule.name: rule for rule in rules}
        self.result = ReplayResult(timeline)
        self._memory: SourceState | None = None
        self._last_firing = 0
        self._ticked: datetime | None = None

    def run(self) -> ReplayResult:
        for step in self.timeline.steps:
            self._tick_until(step.at)
            self._poll(step)
        self._tick_until(self.timeline.until)
        return self.result

    def _poll(self, step: Step) -> None:
        with self.store.session() as session:
            if self._memory is None:
                self._memory = SourceState(SOURCE, PBS_JOB, session)
            events = self._memory.apply(session, _observation(step),
                                        down_after=self.timeline.down_after, now=step.at)
            for event in events:  # one at a time, so each is logged before its decisions
                self.result.log.append(event)
                self._record(session, self.engine.process(session, [event], step.at))

    def _tick_until(self, until: datetime) -> None:
        while True:
            with self.store.session() as session:
                due = self.engine.next_due(session)
                # A window the tick could not close would come back forever: stop at it.
                if due is None or due > until or (self._ticked and due <= self._ticked):
                    return
                self._ticked = due
                self._record(session, self.engine.tick(session, due))

    def _record(self, session: Session, reports: list[FiringReport]) -> None:
        fired = self._new_firings(session)
        for report in reports:
            if report.verdict is Verdict.NONE:
                continue
            mine = fired[(report.rule, report.subject)]
            actions = mine.popleft() if report.verdict is Verdict.FIRE and mine else ()
            self.result.log.append(Decision(report.at, report.rule, report.subject,
                                            report.verdict, report.reason, actions))

    def _new_firings(self, session: Session) -> dict[_Key, deque[tuple[PlannedAction, ...]]]:
        """The actions of each firing since the last call, by (rule, subject), oldest first.

        A grouped action (`group_by`) has one intent per group, owned by the group's first
        firing; a later firing of the group only adds an item to that intent's digest."""
        session.flush()
        firings = session.exec(select(Firing).where(col(Firing.id) > self._last_firing)
                               .order_by(col(Firing.id))).all()
        ids = {firing.id for firing in firings}
        self._last_firing = max((i or 0 for i in ids), default=self._last_firing)
        steps: dict[int | None, dict[int, PlannedAction]] = defaultdict(dict)
        for intent in session.exec(select(Intent).where(col(Intent.firing_id).in_(ids))):
            steps[intent.firing_id][intent.step] = self._planned(intent)
        # Group intents are keyed `<rule>|group|<hash>|<n>` (watcher.engine.grouping).
        for intent in session.exec(select(Intent).where(col(Intent.key).contains("|group|"))):
            for item in (intent.params.get("digest") or {}).get("items", []):
                if item.get("firing_id") in ids:
                    steps[item["firing_id"]].setdefault(intent.step, self._planned(intent))
        fired: dict[_Key, deque[tuple[PlannedAction, ...]]] = defaultdict(deque)
        for firing in firings:
            mine = steps[firing.id]
            fired[(firing.rule, firing.subject)].append(tuple(mine[n] for n in sorted(mine)))
        return fired

    def _planned(self, intent: Intent) -> PlannedAction:
        written = self.rules[intent.rule].do[intent.step].params
        # A step using earlier steps' results is rendered only when it runs: shown as written.
        params = intent.params[DEFERRED]["params"] if DEFERRED in intent.params else intent.params
        shown = {key: params.get(key) for key in written}
        error = intent.last_error if intent.status == DEAD else None
        return PlannedAction(intent.step, intent.action_type, dict(params), shown, error,
                             grouped=bool(intent.params.get("digest")))


def _observation(step: Step) -> Observation:
    if step.jobs is None:
        return Observation.failed(SOURCE, step.at, step.error or "qstat failed (pbs: down)")
    return Observation(SOURCE, True, step.at, subjects=copy.deepcopy(step.jobs))
