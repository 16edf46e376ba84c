"""Grouping, as Alertmanager does it: fifty jobs failing together make one email, not fifty.

An action whose params carry `group_by` (any action whose Params include `GroupingParams`; the
email action does) gets no intent per firing. Firings of one rule and step that agree on the
`group_by` values and on every shared parameter (the recipients above all) gather in one *group
intent*: its `digest` holds one item per firing, and the action renders them together.

    - email:
        to: "{{ user.email }}"
        group_by: [rule, job.queue]   # attribute names, or templates: "{{ job.owner }}"
        group_wait: 30s               # collect for this long after the group's first firing
        repeat_interval: 4h           # and send one group's digests at least this far apart
        item: "{{ job.id }}: {{ meanings.exit_status(job.exit_status) }}"  # one line per firing

Exactly once: the item is appended in the engine's transaction, together with the firing, so a
crash keeps both or neither. An item goes only into an intent no worker has started (pending,
never attempted), locked `FOR UPDATE` on PostgreSQL so a claimer skips it meanwhile. Group
intents are keyed `<rule>|group|<hash>|<n>`, the n-th intent of that group: two instances
opening the same group at once compute the same key, and the second one joins the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import (
    BaseModel,
)
from sqlalchemy import func
from sqlmodel import Session, col, select

from watcher import templating
from watcher.actions.digest import DigestItem, GroupingParams
from watcher.ledger.outbox import NewIntent, enqueue
from watcher.rules.model import ActionCall
from watcher.store.models import DONE, PENDING, RUNNING, Intent

# A digest lists at most this many items and counts the rest: every append rewrites the list.
MAX_ITEMS = 1000
_OPEN = "watcher.grouping.open"  # session.info: this transaction's open group intents
_ITEMS = "watcher.grouping.items"  # session.info: items not yet written to their intents


@dataclass(frozen=True)
class Grouped:
    """One firing's share of a group: the group's key, the item it adds, and the params (with a
    digest of that one item) a new group intent would start from."""

    key: str
    rule: str
    step: int
    action_type: str
    firing_id: int | None
    item: dict[str, Any]
    params: dict[str, Any]
    wait: timedelta
    repeat: timedelta


def grouped(call: ActionCall, bound: BaseModel, context: Mapping[str, Any], *, rule: str,
            step: int, firing_id: int | None) -> Grouped | None:
    """The group of this firing's action step, or None if it is not grouped. Pure.

    `bound` are the rendered, validated params; `call.params` the written ones, which tell an
    attribute name (`job.queue`) from a template that rendered to a value. Raises
    TemplateError naming the field, like `ActionCall.bind`."""
    if not isinstance(bound, GroupingParams) or bound.group_by is None:
        return None
    where = f"do[{step}].{call.type}"
    labels = _labels(call.params["group_by"], bound.group_by, context, where)
    line = bound.item if bound.item is not None else templating.render(
        type(bound).DEFAULT_ITEM, context, f"{where}.item")
    event = context["event"]
    item = DigestItem(subject=event["subject"], kind=event["kind"], at=event["at"],
                      firing_id=firing_id, line=line).model_dump(mode="json")
    params = bound.model_dump(mode="json")
    shared = {k: v for k, v in params.items()
              if k not in type(bound).PER_ITEM and k not in ("item", "digest")}
    identity = json.dumps([rule, step, list(labels.items()), shared], sort_keys=True, default=str)
    key = f"{rule}|group|{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
    first = {**params, "digest": {"group": labels, "items": [item], "omitted": 0}}
    return Grouped(key, rule, step, call.type, firing_id, item, first, bound.group_wait,
                   bound.repeat_interval)


def _labels(written: list[str], rendered: list[str], context: Mapping[str, Any], where: str
            ) -> dict[str, str]:
    """`{"job.queue": "workq"}`: a name is looked up like `{{ job.queue }}`; a template was
    already rendered by `bind`."""
    labels = {}
    for i, (entry, value) in enumerate(zip(written, rendered, strict=True)):
        labels[entry] = value if templating.is_template(entry) else templating.render(
            "{{ " + entry + " }}", context, f"{where}.group_by[{i}]")
    return labels


def collect(session: Session, group: Grouped, now: datetime) -> Intent:
    """Add the firing to its group's open intent, or open one; returns the group intent."""

    cache: dict[str, Intent] = session.info.setdefault(_OPEN, {})
    intent = cache.get(group.key) or _open_intent(session, group.key)
    while intent is None:
        number = _count(session, group.key) + 1
        new = NewIntent(f"{group.key}|{number}", group.rule, group.action_type, group.params,
                        group.step, firing_id=group.firing_id,
                        not_before=_due(session, group, now))
        created = enqueue(session, [new], now=now)
        if created:
            cache[group.key] = created[0]
            return created[0]
        intent = _open_intent(session, group.key)  # another instance opened it just now
    # Items wait in the session until `write_items`: rewriting the intent's params at every
    # firing re-encoded up to MAX_ITEMS items each time (a lost queue: 10,000 firings).
    waiting: dict[int, tuple[Intent, list[dict[str, Any]]]] = session.info.setdefault(
        _ITEMS, {})
    waiting.setdefault(id(intent), (intent, []))[1].append(group.item)
    cache[group.key] = intent
    return intent


def is_open(session: Session, key: str) -> bool:
    """Whether this transaction already holds the group's open intent (`collect` found or
    opened it)."""
    return key in session.info.get(_OPEN, {})


def write_items(session: Session, now: datetime) -> None:
    """Add the items `collect` gathered to their group intents, once per intent; the engine
    calls it before its caller commits."""
    waiting: dict[int, tuple[Intent, list[dict[str, Any]]]] = session.info.pop(_ITEMS, {})
    for intent, items in waiting.values():
        _append(intent, items, now)


def _of_group(key: str) -> Any:
    return col(Intent.key).startswith(f"{key}|", autoescape=True)


def _open_intent(session: Session, key: str) -> Intent | None:
    stmt = (select(Intent).where(_of_group(key), Intent.status == PENDING, Intent.attempts == 0)
            .order_by(col(Intent.id).desc()).limit(1).with_for_update())
    return session.exec(stmt).first()


def _count(session: Session, key: str) -> int:
    return session.exec(select(func.count()).select_from(Intent).where(_of_group(key))).one()


def _due(session: Session, group: Grouped, now: datetime) -> datetime:
    """`group_wait` from now, but not within `repeat_interval` of the group's last sending."""
    stmt = (select(Intent).where(_of_group(group.key), col(Intent.status).in_((RUNNING, DONE)))
            .order_by(col(Intent.updated_at).desc()).limit(1))
    last = session.exec(stmt).first()
    due = now + group.wait
    return due if last is None else max(due, last.updated_at + group.repeat)


def _append(intent: Intent, items: list[dict[str, Any]], now: datetime) -> None:
    digest = dict(intent.params["digest"])
    room = max(MAX_ITEMS - len(digest["items"]), 0)
    digest["items"] = [*digest["items"], *items[:room]]
    digest["omitted"] = digest["omitted"] + len(items[room:])
    intent.params = {**intent.params, "digest": digest}  # replaced, not mutated: see models
    intent.updated_at = now
