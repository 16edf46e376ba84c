"""Jinja2 templates in rule files, rendered in a sandbox.

Rule files are written by users, but the values that flow into templates (job names, PBS
comments, Globus labels) are not theirs to control, so templates run in
`ImmutableSandboxedEnvironment`: no access to dunder attributes (`{{ ''.__class__ }}` fails), no
mutation of the context. `StrictUndefined` makes a typo (`{{ job.nmae }}`) an error that names the
field instead of an empty string in a `qdel` argument. Autoescape is off: output goes to command
arguments and plain-text mail, not HTML.

The context a rule's templates see (built by `build_context`):

- `rule`: the rule's name.
- `event`: `kind` (`pbs_job`, `source_down`, ...), `subject` (job id, task id, source name),
  `change` (`appeared`, `changed`, `vanished`), `at` (when it was observed, a datetime),
  `attrs` (the subject's attributes after the change, or its last known ones; for
  `action_failed`: `rule action step attempts error`) and `data` (extra facts of the event,
  e.g. a `source_down`'s `error`).
- `job`: for PBS events, the subject's attributes (`id name owner queue state substate
  exit_status hold_types comment run_count depend submit_arguments variables workdir resources
  used`), after the change; for a vanished job, its last known attributes. `resources` and
  `used` (Resource_List, resources_used) hold times as `PbsDuration`s.
- `quota`: for quota events, the path's usage (`path used_percent used_bytes limit_bytes
  over_limit files files_limit files_percent grace inaccurate`), after the change.
- `previous`: the subject's attributes before the change (None for a job that just appeared).
- `user`: `name` and `email` of the user watcher runs for.
- `vars`: the rule's `vars:` merged over the settings' variables.
- `now`: the time of firing (a datetime).
- Added by later features: `task` (Globus task), `workflow` (a staged workflow's ids),
  `meanings` (PBS codes in words).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2

from watcher import sandbox
from watcher.events import PBS_JOB, QUOTA, Event
from watcher.pbs.durations import job_view

# The sandbox also bounds each render's cost (`watcher.sandbox`): a slow template fails its own
# action, it cannot hold up the poll or the other rules.
_ENV = sandbox.LimitedSandbox(undefined=jinja2.StrictUndefined, autoescape=False)
# Templates that ran over their time budget fail at once from then on: one slow template costs
# one budget per process, not one per firing (a burst of 5,000 firings would be 40 minutes).
_OVER_BUDGET: dict[str, str] = {}


class TemplateError(Exception):
    """A template failed to parse or render; `field_path` says which rule field holds it."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}" if field_path else message)
        self.field_path = field_path
        self.message = message


def is_template(value: object) -> bool:
    """Whether a value is a string holding Jinja syntax (an expression, a statement, a comment)."""
    return isinstance(value, str) and any(m in value for m in ("{{", "{%", "{#"))


@lru_cache(maxsize=512)
def _compile(template: str) -> jinja2.Template:
    return _ENV.from_string(template)


@lru_cache(maxsize=512)
def parse(template: str) -> jinja2.nodes.Template:
    """The template's syntax tree, for the rule checker; raises `jinja2.TemplateSyntaxError`,
    or `sandbox.TemplateLimit` for one too long or deep to parse (as `check_syntax` says).
    Cached: the engine asks again at every firing (`watcher.ledger.deferred.uses_steps`); the
    tree must not be changed."""
    sandbox.check_shape(template)
    return _ENV.parse(template)


def global_names() -> frozenset[str]:
    """Names every template may use besides its context (`range`, `dict`, `namespace`...)."""
    return frozenset(_ENV.globals)


def check_syntax(template: str, field_path: str = "") -> None:
    """Raise `TemplateError` if the template does not parse (used when rules are loaded)."""
    try:
        _compile(template)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(field_path, f"template syntax error: {(exc.message or '').rstrip('.')} "
                                        f"(template line {exc.lineno})") from exc
    except sandbox.TemplateLimit as exc:
        raise TemplateError(field_path, f"template refused: {exc}") from exc
    except RecursionError as exc:  # a shape `check_shape` does not count (`- - - - ... 1`)
        raise TemplateError(field_path, "template refused: nested too deeply") from exc


def render(template: str, context: Mapping[str, Any], field_path: str = "") -> str:
    """Render one template string; every failure becomes a `TemplateError` naming the field."""
    check_syntax(template, field_path)
    if template in _OVER_BUDGET:
        raise TemplateError(field_path, _OVER_BUDGET[template])
    try:
        compiled = _compile(template)
        return sandbox.render_bounded(compiled.generate(context))
    except jinja2.UndefinedError as exc:
        raise TemplateError(field_path, f"undefined in template: {exc.message}") from exc
    except sandbox.OverBudget as exc:
        _OVER_BUDGET[template] = f"template stopped: {exc} (it fails at once until changed)"
        raise TemplateError(field_path, f"template stopped: {exc}") from exc
    except sandbox.TemplateLimit as exc:
        raise TemplateError(field_path, f"template stopped: {exc}") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(field_path, f"not allowed in a template: {exc}") from exc
    except Exception as exc:  # a template can raise anything (1/0, bad filter arguments)
        raise TemplateError(field_path, f"template failed: {type(exc).__name__}: {exc}") from exc


def render_params(params: Any, context: Mapping[str, Any], field_path: str = "") -> Any:
    """Render every string inside dicts and lists; other values are returned as they are."""
    if isinstance(params, str):
        return render(params, context, field_path) if is_template(params) else params
    if isinstance(params, Mapping):
        return {k: render_params(v, context, _join(field_path, str(k))) for k, v in params.items()}
    if isinstance(params, list | tuple):
        return [render_params(v, context, f"{field_path}[{i}]") for i, v in enumerate(params)]
    return params


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def build_context(
    *,
    rule: str,
    event: Event,
    now: datetime,
    user: Mapping[str, Any] | None = None,
    vars: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The template context for one firing of `rule` on `event` (see the module docstring)."""
    attrs = event.current if event.current is not None else event.previous
    context: dict[str, Any] = {
        "rule": rule,
        "event": {"kind": event.kind, "subject": event.subject, "change": event.change,
                  "at": event.at, "attrs": dict(attrs) if attrs is not None else {},
                  "data": dict(event.data)},
        "previous": dict(event.previous) if event.previous is not None else None,
        "user": dict(user or {}),
        "vars": dict(vars or {}),
        "now": now,
    }
    if event.kind == PBS_JOB:  # resources and used with durations: `walltime * 2` computes
        context["job"] = job_view(attrs) if attrs is not None else None
        if event.previous is not None:
            context["previous"] = job_view(event.previous)
    elif event.kind == QUOTA:
        context["quota"] = dict(attrs) if attrs is not None else None
    context.update(extra)
    return context
