"""Steps that use earlier steps' results (`{{ steps[0].job_id }}`, `{{ steps.retry.job_id }}`).

Such a step cannot be rendered when the rule fires: the results do not exist yet. The engine
stores it *deferred*: its params as written and the firing's template context, encoded as JSON
(datetimes and durations tagged so they come back as themselves). When the ledger runs it, its
predecessors are done (a step runs only after the one before it), and `render_deferred` renders
it with `steps` built from their ledger records, not from memory: a restart between two steps
renders the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import nodes
from sqlmodel import Session, col, select

from watcher import templating
from watcher.pbs.durations import PbsDuration
from watcher.store.models import DONE, Intent

DEFERRED = "__deferred__"
# Context entries that are code, not data: added again when the step is rendered.
_HELPERS = ("meanings",)


def uses_steps(params: Any) -> bool:
    """Whether any template in the params names `steps`."""
    if isinstance(params, Mapping):
        return any(uses_steps(value) for value in params.values())
    if isinstance(params, list | tuple):
        return any(uses_steps(value) for value in params)
    if not templating.is_template(params):
        return False
    try:
        tree = templating.parse(params)
    except Exception:  # a template that does not parse fails when it is rendered
        return False
    return any(n.name == "steps" for n in tree.find_all(nodes.Name) if n.ctx == "load")


def deferred(params: dict[str, Any], context: Mapping[str, Any],
             names: Mapping[str, int]) -> dict[str, Any]:
    """The params an intent stores for a step rendered when it runs."""
    data = {k: v for k, v in context.items() if k not in _HELPERS}
    return {DEFERRED: {"params": params, "context": encode(data), "names": dict(names)}}


def is_deferred(params: Mapping[str, Any]) -> bool:
    """Whether the params were stored unrendered, waiting on earlier steps' results."""
    return DEFERRED in params


def step_results(session: Session, intent: Intent, names: Mapping[str, int]
                 ) -> dict[str | int, dict[str, Any]]:
    """`steps` for `intent`: each earlier done step of its firing, by index and by name."""
    stmt = select(Intent).where(Intent.firing_id == intent.firing_id,
                                col(Intent.step) < intent.step, Intent.status == DONE)
    steps: dict[str | int, dict[str, Any]] = {}
    for row in session.exec(stmt):
        result = row.result or {}
        steps[row.step] = {"detail": result.get("detail", ""), **(result.get("facts") or {})}
    for name, index in names.items():
        if index in steps:
            steps[name] = steps[index]
    return steps


def deferred_context(intent: Intent, steps: Mapping[str | int, Any],
                     helpers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The written params and the context to render them with."""
    payload = intent.params[DEFERRED]
    context = decode(payload["context"])
    return dict(payload["params"]), {**context, **helpers, "steps": dict(steps)}


def encode(value: Any) -> Any:
    """JSON-able, with datetimes and durations tagged (`decode` gives them back)."""
    if isinstance(value, PbsDuration):
        return {"$pbs_duration": value.total_seconds()}
    if isinstance(value, timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


_TAGS = {
    "$pbs_duration": lambda v: PbsDuration(seconds=v),
    "$timedelta": lambda v: timedelta(seconds=v),
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
}


def decode(value: Any) -> Any:
    """The inverse of `encode`: tagged one-key mappings back to their values, deeply."""
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, inner), = value.items()
            if tag in _TAGS:
                return _TAGS[tag](inner)
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value
