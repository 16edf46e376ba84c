"""A rule: triggers (`when`), conditions, limits (`for`, `once`, `cooldown`, `max_fires`) and
actions (`do`), as validated pydantic models.

```yaml
rules:
  - name: release-analysis            # unique across all files: letters, digits, - and _
    description: start the analysis when the simulation ends well
    when: {pbs_job: {name: sim, state: F, exit_status: 0}}   # one trigger, or a list (any fires)
    conditions: [{time: {after: "08:00"}}]                    # all must hold when it fires
    for: 5m                                                   # ... and keep holding this long
    do:                                                       # run in order
      - qrls: {job: "{{ vars.analysis_job }}"}
    vars: {analysis_job: 1235.server}
```

Triggers, conditions and actions are one-key mappings whose key names a registry entry
(`TRIGGERS`, `CONDITIONS`, `ACTIONS`). `watcher.rules.loader` builds these models with a line
and column for every error; `Rule.model_validate` on plain data works too, with plainer errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from watcher import templating
from watcher.actions import ACTIONS
from watcher.actions.base import ActionParams
from watcher.events import Event
from watcher.lang.durations import Duration
from watcher.lang.validation import problems_from
from watcher.rules.conditions import CONDITIONS, ConditionContext, ConditionType
from watcher.triggers import TRIGGERS, TriggerType


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSource(_Frozen):
    """Where a rule was written: its file and the line of its first key."""

    path: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


class Trigger(_Frozen):
    """One entry of `when`: a trigger type and its validated config."""

    type: str
    config: SerializeAsAny[BaseModel]
    line: int | None = None

    @property
    def impl(self) -> TriggerType:
        """The registered trigger type this `type:` names."""
        return TRIGGERS[self.type]

    @property
    def event_kinds(self) -> frozenset[str]:
        """The event kinds whose edges can fire this trigger (its type's)."""
        return self.impl.event_kinds

    @property
    def watch_kinds(self) -> frozenset[str]:
        """The event kinds that move a subject into or out of the condition (for `for:`)."""
        return self.impl.watch_kinds

    def subject_key(self) -> str | None:
        """The one subject this trigger is pinned to (for indexing), or None for any."""
        return self.impl.subject_key(self.config)

    def selects(self, attrs: Mapping[str, Any]) -> bool:
        """Whether the trigger's identity selectors pick a subject with these attributes."""
        return self.impl.selects(self.config, attrs)

    def holds(self, attrs: Mapping[str, Any] | None) -> bool:
        """Whether a subject with these attributes (None: unknown) is inside the condition."""
        return self.impl.holds(self.config, attrs)

    def matches_transition(self, event: Event) -> bool:
        """Whether `event` is an edge into the condition for a selected subject."""
        return self.impl.matches_transition(self.config, event)

    def __str__(self) -> str:
        return self.impl.describe(self.config)


class Condition(_Frozen):
    """One entry of `conditions`: a condition type and its validated config."""

    type: str
    config: SerializeAsAny[BaseModel]
    line: int | None = None

    @property
    def impl(self) -> ConditionType:
        """The registered condition type this `type:` names."""
        return CONDITIONS[self.type]

    def check(self, ctx: ConditionContext) -> bool:
        """Whether the condition holds; raises ConditionErrorMessage if it cannot tell."""
        return self.impl.check(self.config, ctx)

    def __str__(self) -> str:
        return self.impl.describe(self.config)


class ActionCall(_Frozen):
    """One entry of `do`: an action type and its raw params (templates not yet rendered)."""

    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    line: int | None = None
    name: str | None = None  # `- name: retry` beside the action: later steps' `steps.retry`

    def per_item(self) -> frozenset[str]:
        """Params that differ per firing of a grouped action (`GroupingParams.PER_ITEM`)."""
        return frozenset(getattr(ACTIONS[self.type].params, "PER_ITEM", ()))

    def bind(self, context: Mapping[str, Any], field_path: str = "",
             skip: frozenset[str] = frozenset()) -> ActionParams:
        """Render the params' templates and validate the result against the action's model.

        Raises `templating.TemplateError` naming the field when rendering fails or the rendered
        value is not what the action takes (a template that rendered `hold: x`)."""
        field_path = field_path or self.type
        model = ACTIONS[self.type].params
        # Defaults that are templates (an email's default subject) render like written params.
        # Fields rendered later by the action itself (a digest's subject) stay as written.
        later: frozenset[str] = getattr(model, "RENDERED_LATER", frozenset())
        defaults = {
            name: info.default for name, info in model.model_fields.items()
            if name not in self.params and isinstance(info.default, str)
            and templating.is_template(info.default) and name not in later
        }
        # `skip`: params left as written too (a grouped firing whose group is open needs no
        # subject of its own).
        kept = later | skip
        now = {k: v for k, v in {**defaults, **self.params}.items() if k not in kept}
        rendered = templating.render_params(now, context, field_path)
        rendered.update({k: v for k, v in self.params.items() if k in kept})
        try:
            return model.model_validate(rendered)
        except ValidationError as exc:
            first = problems_from(exc, model)[0]
            where = ".".join([field_path, *map(str, first.path)])
            raise templating.TemplateError(where, f"after rendering: {first.message}") from exc

    def __str__(self) -> str:
        args = ", ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.type}({args})"


# Rule names appear in logs, idempotency keys and CLI arguments: keep them plain.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")


class Rule(BaseModel):
    """One rule. Fires when any trigger sees its subject enter the condition, all conditions
    hold, and the limits allow it; then runs `do` in order."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(json_schema_extra={"pattern": "^[A-Za-z0-9_-]+$"})
    description: str = ""
    enabled: bool = True
    when: list[Trigger] = Field(min_length=1)
    conditions: list[Condition] = Field(default_factory=list)
    for_: Duration | None = Field(default=None, alias="for")
    once: bool = False
    cooldown: Duration | None = None
    max_fires: int | None = Field(default=None, ge=1)
    do: list[ActionCall] = Field(min_length=1)
    vars: dict[str, Any] = Field(default_factory=dict)
    source: SkipJsonSchema[RuleSource | None] = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(f"expected letters, digits, '-' and '_' but got '{value}'")
        return value

    @field_validator("when", "conditions", "do", mode="before")
    @classmethod
    def _entries(cls, value: Any, info: Any) -> Any:
        # Plain YAML data (one-key mappings) is parsed here; the loader passes parsed objects.
        from watcher.rules.parse import parse_entries_or_raise  # parse imports this module

        return parse_entries_or_raise(info.field_name, value)

    @model_validator(mode="after")
    def _limits(self) -> Rule:
        if self.once and self.max_fires is not None:
            raise ValueError("at most one of 'once' and 'max_fires': 'once' is 'max_fires: 1'")
        return self
