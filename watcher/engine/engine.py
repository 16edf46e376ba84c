"""The engine: committed events in, firings and action intents out, in the caller's transaction.

An event, the rules' edge states it changes, the firings it causes and their intents are written in
one transaction, so a crash either keeps all of them or none: a restart never loses a firing and
never repeats one. Each intent's idempotency key is (rule, subject, event id, step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlmodel import Session, col, select

from watcher import metrics, templating
from watcher.engine import grouping, silences
from watcher.engine.decide import Decision, EdgeState, Limits, Verdict, fired, on_event, on_tick
from watcher.engine.edge_state import EdgeStates, load_edge_state, save_edge_state
from watcher.engine.index import TriggerIndex
from watcher.events import ACTION_FAILED, APPEARED, Event
from watcher.ledger import deferred as steps
from watcher.ledger.outbox import NewIntent, enqueue
from watcher.pbs.meanings import TEMPLATE_HELPER
from watcher.rules.condition_errors import ConditionError
from watcher.rules.conditions import ConditionContext, check_conditions
from watcher.rules.model import ActionCall, Rule
from watcher.store.models import DEAD, EventRecord, Firing, RuleState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiringReport:
    """What the engine decided for one rule and subject, for logs, `rules test` and tests."""

    rule: str
    subject: str
    verdict: Verdict
    reason: str
    at: datetime
    actions: tuple[str, ...] = ()


@dataclass
class Engine:
    """Evaluates rules against events. `user` and `vars` go into every template context;
    `context_for(session, event)` adds values read when a rule fires (a workflow's live ids)."""

    rules: Sequence[Rule]
    user: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)
    extra_context: Mapping[str, Any] = field(default_factory=dict)
    context_for: Callable[[Session, Event], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        self._edges: EdgeStates | None = None  # while `process` runs
        # While a batch runs (`_batch`): firings to insert, intents by firing, digest items
        # and group intents waiting for their firing's id, intents born dead.
        self._firings: list[dict[str, Any]] = []
        self._intents: list[tuple[int, NewIntent]] = []
        self._patch: list[tuple[int, dict[str, Any], Any]] = []
        self._failures: dict[str, str] = {}
        self._index = TriggerIndex(self.rules)
        self._by_name = {rule.name: rule for rule in self.rules if rule.enabled}

    def process(self, session: Session, events: Sequence[Event], now: datetime
                ) -> list[FiringReport]:
        """Record `events` and everything they cause in `session` (not committed here)."""
        reports: list[FiringReport] = []
        # A burst (a lost queue: 5,000 vanished jobs) is one batch: the events inserted in one
        # flush, the edge states read in a few queries, no flush per look-up.
        records = [EventRecord.from_event(event) for event in events]
        session.add_all(records)
        session.flush()
        with session.no_autoflush, self._batch(session, now):
            self._edges = EdgeStates(session, {event.subject for event in events})
            try:
                for event, record in zip(events, records, strict=True):
                    for rule in self._index.candidates(event):
                        report = self._on_event(session, rule, event, record.id, now)
                        if report is not None:
                            reports.append(report)
            finally:
                self._edges = None
        _count_when_committed(session, events, reports)
        return reports

    @contextmanager
    def _batch(self, session: Session, now: datetime) -> Iterator[None]:
        """Collect every firing and its intents and write them at the end: one INSERT of the
        firings, one of the intents, each group's items once, instead of a few statements per
        firing (a lost queue of 5,000 jobs is 10,000 firings with two rules on `vanished`)."""
        self._firings, self._intents, self._patch, self._failures = [], [], [], {}
        try:
            yield
            ids = _insert_firings(session, self._firings)
            for firing, item, intent in self._patch:
                item["firing_id"] = ids[firing]
                if intent.firing_id is None:  # opened by this firing: its first item is this one
                    intent.firing_id = ids[firing]
                    digest = dict(intent.params["digest"])
                    digest["items"] = [{**i, "firing_id": ids[firing]} for i in digest["items"]]
                    intent.params = {**intent.params, "digest": digest}
                    session.add(intent)
            intents = [replace(new, firing_id=ids[firing]) for firing, new in self._intents]
            for row in enqueue(session, intents, now=now):
                if row.key in self._failures:
                    row.status, row.last_error = DEAD, self._failures[row.key]
                    session.add(row)
            grouping.write_items(session, now)
        finally:
            self._firings, self._intents, self._patch, self._failures = [], [], [], {}

    def tick(self, session: Session, now: datetime) -> list[FiringReport]:
        """Fire the `for:` windows that have elapsed."""
        reports = []
        pending = session.exec(select(RuleState).where(RuleState.pending_since.is_not(None)))
        for row in pending.all():
            rule = self._by_name.get(row.rule)
            if rule is None:  # the rule was removed or disabled: its window closes
                continue
            edge = load_edge_state(row)
            decision = on_tick(_limits(rule), edge, now)
            if decision.verdict is Verdict.NONE:
                continue
            event = _pending_event(session, row)
            latest = _latest_event(session, rule, row.subject)
            if latest is not None and latest.id != row.pending_event_id:
                current = latest.to_event()
                if not _inside(rule, current):  # it left while the rule was out of force
                    decision = Decision(Verdict.CANCELLED, EdgeState(
                        False, None, None, edge.fire_count, edge.last_fired_at),
                        "no longer holds: left the condition while the rule was not in force")
                event = current  # render with what is known now, not with the window's start
            with self._batch(session, now):
                reports.append(self._settle(session, rule, row.subject, event,
                                            row.pending_event_id, decision, now))
        _count_when_committed(session, (), reports)
        return reports

    def next_due(self, session: Session) -> datetime | None:
        """When the earliest open `for:` window elapses, so the loop can wake up for it."""
        due = [
            row.pending_since + rule.for_
            for row in session.exec(select(RuleState).where(RuleState.pending_since.is_not(None)))
            if (rule := self._by_name.get(row.rule)) is not None and rule.for_ is not None
        ]
        return min(due, default=None)

    def _row(self, session: Session, rule: str, subject: str) -> RuleState | None:
        if self._edges is not None:
            return self._edges.row(rule, subject)
        return session.get(RuleState, (rule, subject))

    def _on_event(self, session: Session, rule: Rule, event: Event, event_id: int | None,
                  now: datetime) -> FiringReport | None:
        if event.kind == ACTION_FAILED and (event.current or {}).get("rule") == rule.name:
            return None  # a rule's own failed action must not feed it (mail down -> mail fails)
        triggers = [t for t in rule.when if event.kind in t.watch_kinds]
        sides = [attrs for attrs in (event.previous, event.current) if attrs is not None]
        if sides and not any(t.selects(attrs) for t in triggers for attrs in sides):
            # Never selected on either side: the rule has no edge state for this subject and cannot
            # enter. Skipping here saves a RuleState read per unpinned rule and event.
            return None
        entered = [t for t in triggers if t.matches_transition(event)]
        holding = _inside(rule, event)
        edge = load_edge_state(self._row(session, rule.name, event.subject))
        if (entered and event.change == APPEARED and edge.in_condition
                and edge.last_fired_at is not None):
            # Seen inside before, forgotten, listed again (a Globus task announced again when
            # it joins the watch list): a rule that fired for it does not fire again; one whose
            # conditions held it back then (not yet a workflow's stage-in) decides anew.
            entered = []
        why = f"{_describe(event)} entered {entered[0]}" if entered else ""
        decision = on_event(_limits(rule), edge, entered=bool(entered), holding=holding,
                            at=event.at, event_id=event_id, why=why)
        if decision.edge == edge and decision.verdict is Verdict.NONE:
            return None
        return self._settle(session, rule, event.subject, event, event_id, decision, now)

    def _settle(self, session: Session, rule: Rule, subject: str, event: Event | None,
                event_id: int | None, decision: Decision, now: datetime) -> FiringReport:
        edge, verdict, reason = decision.edge, decision.verdict, decision.reason
        actions: tuple[str, ...] = ()
        if verdict is Verdict.FIRE and event is not None:
            blocked = (silences.suppress(session, rule.name, subject, event_id, now)
                       or self._conditions_block(session, rule, subject, event, now))
            if blocked:
                verdict, reason = Verdict.SUPPRESSED, blocked
                edge = EdgeState(edge.in_condition, None, None, edge.fire_count,
                                    edge.last_fired_at)
            else:
                actions = self._fire(session, rule, subject, event, event_id, reason, now)
                edge = fired(edge, now)
        if self._edges is not None:
            self._edges.save(rule.name, subject, edge)
        else:
            save_edge_state(session, rule.name, subject, edge)
        report = FiringReport(rule.name, subject, verdict, reason, now, actions)
        if verdict is not Verdict.NONE:
            log.info("rule %r on %s: %s (%s)", rule.name, subject, verdict.value, reason)
        return report

    def _context(self, session: Session, rule: Rule, event: Event, now: datetime
                 ) -> dict[str, Any]:
        extra = {**self.extra_context,
                 **(self.context_for(session, event) if self.context_for else {})}
        return templating.build_context(
            rule=rule.name, event=event, now=now, user=self.user,
            vars={**self.vars, **rule.vars}, meanings=TEMPLATE_HELPER, **extra)

    def _conditions_block(self, session: Session, rule: Rule, subject: str, event: Event,
                          now: datetime) -> str | None:
        if not rule.conditions:
            return None
        ctx = ConditionContext(now, subject, event.current or event.previous, event.kind,
                               self._context(session, rule, event, now))
        try:
            return None if check_conditions(rule.conditions, ctx) else "conditions do not hold"
        except ConditionError as exc:
            log.warning("rule %r: %s", rule.name, exc)
            return f"condition error: {exc}"

    def _bind(self, session: Session, call: ActionCall, context: Mapping[str, Any], rule: str,
              step: int, firing_id: int | None) -> tuple[Any, grouping.Grouped | None]:
        """Render the call's params; for a grouped call whose group is open, the group is
        found first and the params that only the group's first intent uses (an email's
        subject and body) are not rendered: a burst of 10,000 firings renders them once."""
        where = f"do[{step}].{call.type}"
        skip = call.per_item() if call.params.get("group_by") is not None else frozenset()
        bound = call.bind(context, where, skip)
        group = grouping.grouped(call, bound, context, rule=rule, step=step, firing_id=firing_id)
        if skip and (group is None or not grouping.is_open(session, group.key)):
            bound = call.bind(context, where)
            group = grouping.grouped(call, bound, context, rule=rule, step=step,
                                     firing_id=firing_id)
        return bound, group

    def _fire(self, session: Session, rule: Rule, subject: str, event: Event,
              event_id: int | None, reason: str, now: datetime) -> tuple[str, ...]:
        # The firing is inserted with the batch's others (`_batch`); until then it is a number
        # in the batch, patched into its intents and digest items once the ids are known.
        firing = len(self._firings)
        self._firings.append({"rule": rule.name, "subject": subject, "event_id": event_id,
                              "at": now, "reason": reason})
        context = self._context(session, rule, event, now)
        intents: list[tuple[int, NewIntent]] = []
        failures: dict[str, str] = {}
        previous_key = None
        names = {call.name: step for step, call in enumerate(rule.do) if call.name}
        for step, call in enumerate(rule.do):
            key = f"{rule.name}|{subject}|{event_id}|{step}"
            if steps.uses_steps(call.params):  # rendered when it runs, with earlier results
                intents.append((firing, NewIntent(key, rule.name, call.type,
                                                  steps.deferred(call.params, context, names),
                                                  step, previous_key)))
                previous_key = key
                continue
            try:
                bound, group = self._bind(session, call, context, rule.name, step, None)
                params = bound.model_dump(mode="json")
            except templating.TemplateError as exc:  # permanent: the intent is born dead
                params, group, failures[key] = dict(call.params), None, str(exc)
                # The runner never sees a dead-born intent, so this is its one log line.
                log.error("Rule %r step %d (%s) failed for good: %s", rule.name, step,
                          call.type, exc)
            if group is not None:  # one intent per group, not one per firing; not chained
                intent = grouping.collect(session, group, now)
                self._patch.append((firing, group.item, intent))
                continue
            intents.append((firing, NewIntent(key, rule.name, call.type, params, step,
                                              previous_key)))
            previous_key = key
        self._intents += intents  # enqueued when the batch ends (`_batch`)
        self._failures.update(failures)
        return tuple(str(call) for call in rule.do)


def _insert_firings(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = Firing.__table__  # type: ignore[attr-defined]
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(stmt, rows).scalars())


def _limits(rule: Rule) -> Limits:
    return Limits(rule.for_, rule.once, rule.max_fires, rule.cooldown)


def _inside(rule: Rule, event: Event) -> bool:
    """The event's subject is, after the event, inside one of the rule's triggers."""
    attrs = event.current
    return attrs is not None and any(
        event.kind in t.event_kinds and t.selects(attrs) and t.holds(attrs) for t in rule.when)


def _latest_event(session: Session, rule: Rule, subject: str) -> EventRecord | None:
    kinds = sorted({kind for trigger in rule.when for kind in trigger.watch_kinds})
    query = (select(EventRecord)
             .where(EventRecord.subject == subject, col(EventRecord.kind).in_(kinds))
             .order_by(col(EventRecord.id).desc()).limit(1))
    return session.exec(query).first()


def _pending_event(session: Session, row: RuleState) -> Event | None:
    if row.pending_event_id is None:
        return None
    record = session.get(EventRecord, row.pending_event_id)
    return record.to_event() if record is not None else None


def _describe(event: Event) -> str:
    prev, cur = event.previous or {}, event.current or {}
    if "state" in prev or "state" in cur:
        return f"{event.kind} {event.subject} {prev.get('state', '-')}→{cur.get('state', '-')}"
    return f"{event.kind} {event.subject} {event.change}"


def _count_when_committed(session: Session, events: Sequence[Event],
                          reports: Sequence[FiringReport]) -> None:
    """Count the events and firings in `watcher.metrics` once the transaction commits (a
    rolled-back one recorded nothing, so it counts nothing)."""
    kinds = [event.kind for event in events]
    fired = [report.rule for report in reports if report.verdict is Verdict.FIRE]

    def count(_session: Session) -> None:
        for kind in kinds:
            metrics.EVENTS.labels(kind).inc()
        for rule in fired:
            metrics.FIRINGS.labels(rule).inc()

    if kinds or fired:
        sa_event.listen(session, "after_commit", count, once=True)
