"""Conditions: checks a rule makes at firing time, after a trigger matched; all must hold.

```yaml
conditions:
  - subject: {run_count: "< 3", variables.STAGE: "final*"}   # the subject's attributes now
  - time: {after: "08:00", before: "18:00", weekdays: [mon, tue, wed, thu, fri]}
  - template: "{{ job.exit_status not in vars.ignored_codes }}"
```

A condition that cannot be evaluated (a field the subject does not have, a template naming an
undefined variable) raises a nested `ConditionError` that reads like
"In 'conditions' (item 2 of 3): In 'subject' condition: job 12.srv has no field 'x'".
The error types live in `condition_errors` and are importable from here.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Annotated, Any, ClassVar, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    RootModel,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from watcher import templating
from watcher.kinds import kind_of
from watcher.lang.errors import expected_one_of, type_word
from watcher.lang.matchers import MatcherField
from watcher.rules.condition_errors import (
    ConditionError,
    ConditionErrorContainer,
    ConditionErrorIndex,
    ConditionErrorMessage,
)
from watcher.triggers.base import describe_fields


@dataclass(frozen=True)
class ConditionContext:
    """What conditions look at: the time, the subject's current attributes, template values."""

    now: datetime
    subject: str
    attrs: Mapping[str, Any] | None
    kind: str = ""
    template_context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """"<kind noun> <subject>", as messages about this condition name it."""
        return f"{kind_of(self.kind).noun} {self.subject}"


class ConditionType(ABC):
    """One condition type; registered in `CONDITIONS` under its YAML key."""

    name: ClassVar[str]
    summary: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    shorthand: ClassVar[str | None] = None

    @abstractmethod
    def check(self, config: Any, ctx: ConditionContext) -> bool:
        """Whether the condition holds; raises ConditionErrorMessage if it cannot tell."""

    def describe(self, config: BaseModel) -> str:
        """A one-line form for `watcher rules list`: `time(after=08:00:00, before=18:00:00)`."""
        fields = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return f"{self.name}({describe_fields(fields)})"


class SubjectConfig(RootModel[dict[str, MatcherField]]):
    """Attribute name (dotted for nested: `variables.STAGE`) to matcher."""

    @model_validator(mode="after")
    def _not_empty(self) -> SubjectConfig:
        if not self.root:
            raise ValueError("expected at least one attribute to match")
        return self


def _lookup(attrs: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    value: Any = attrs
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


class SubjectCondition(ConditionType):
    """The subject's current attributes match (a level, checked when the rule fires)."""

    name = "subject"
    summary = "the subject's current attributes match"
    Config = SubjectConfig

    def check(self, config: SubjectConfig, ctx: ConditionContext) -> bool:
        if ctx.attrs is None:
            raise ConditionErrorMessage(self.name, f"{ctx.label} has no current attributes")
        for key, matcher in config.root.items():
            found, value = _lookup(ctx.attrs, key)
            if not found:
                raise ConditionErrorMessage(self.name, f"{ctx.label} has no field '{key}'")
            if not matcher.matches(value):
                return False
        return True


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


def _clock_text(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


_Clock = Annotated[time, PlainSerializer(_clock_text, return_type=str),
                   WithJsonSchema({"type": "string", "pattern": _CLOCK.pattern})]
_Weekdays = Annotated[list[str], WithJsonSchema({
    "anyOf": [{"enum": list(WEEKDAYS)}, {"type": "array", "items": {"enum": list(WEEKDAYS)}}]})]


class TimeConfig(BaseModel):
    """A local time window (`after` inclusive, `before` exclusive; may wrap midnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    after: _Clock | None = None
    before: _Clock | None = None
    weekdays: _Weekdays | None = None

    @field_validator("after", "before", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, time) or value is None:
            return value
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if not match:
            shown = f"'{value}'" if isinstance(value, str) else type_word(value)
            raise ValueError(f"expected a time like '08:00' or '17:30:00' but got {shown}")
        return time(*(int(g) if g else 0 for g in match.groups()))

    @field_validator("weekdays", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        days = [value] if isinstance(value, str) else value
        for day in days if isinstance(days, list) else []:
            if str(day).lower() not in WEEKDAYS:
                raise ValueError(expected_one_of(WEEKDAYS, day))
        return [str(day).lower() for day in days] if isinstance(days, list) else days

    @model_validator(mode="after")
    def _something(self) -> TimeConfig:
        if self.after is None and self.before is None and not self.weekdays:
            raise ValueError("expected at least one of 'after', 'before', 'weekdays'")
        return self


class TimeCondition(ConditionType):
    """The local time of firing is inside a daily window and/or on given weekdays."""

    name = "time"
    summary = "the local time is inside a window, on given weekdays"
    Config = TimeConfig

    def check(self, config: TimeConfig, ctx: ConditionContext) -> bool:
        now = ctx.now.astimezone() if ctx.now.tzinfo else ctx.now
        if config.weekdays and WEEKDAYS[now.weekday()] not in config.weekdays:
            return False
        clock, after, before = now.time().replace(tzinfo=None), config.after, config.before
        if after is not None and before is not None and after > before:  # wraps midnight
            return clock >= after or clock < before
        return (after is None or clock >= after) and (before is None or clock < before)


class TemplateConfig(BaseModel):
    """A Jinja expression; `{{ }}` may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str

    @field_validator("value")
    @classmethod
    def _parses(cls, value: str) -> str:
        value = value if templating.is_template(value) else f"{{{{ {value} }}}}"
        try:
            templating.check_syntax(value)
        except templating.TemplateError as exc:
            raise ValueError(exc.message) from None
        return value


_TRUE = {"true", "yes", "on"}


def _truthy(text: str) -> bool:
    text = text.strip().lower()
    try:
        return float(text) != 0
    except ValueError:
        return text in _TRUE


class TemplateCondition(ConditionType):
    """A template renders truthy (`True`, `yes`, `on`, a non-zero number)."""

    name = "template"
    summary = "a Jinja expression renders true"
    Config = TemplateConfig
    shorthand = "value"

    def check(self, config: TemplateConfig, ctx: ConditionContext) -> bool:
        try:
            return _truthy(templating.render(config.value, ctx.template_context))
        except templating.TemplateError as exc:
            raise ConditionErrorMessage(self.name, exc.message) from exc


CONDITIONS: dict[str, ConditionType] = {
    c.name: c for c in (SubjectCondition(), TimeCondition(), TemplateCondition())
}


class _ConditionLike(Protocol):
    type: str
    config: Any


def check_conditions(conditions: Sequence[_ConditionLike], ctx: ConditionContext) -> bool:
    """All conditions hold. Stops at the first False; errors of the others are collected and
    raised together, each with its position, because one broken condition must not hide
    another."""
    errors: list[ConditionError] = []
    for index, condition in enumerate(conditions):
        try:
            if not CONDITIONS[condition.type].check(condition.config, ctx):
                return False
        except ConditionError as exc:
            errors.append(ConditionErrorIndex("conditions", index, len(conditions), exc))
    if errors:
        raise ConditionErrorContainer("conditions", errors)
    return True


__all__ = [
    "CONDITIONS", "ConditionContext", "ConditionError", "ConditionErrorContainer",
    "ConditionErrorIndex", "ConditionErrorMessage", "ConditionType", "check_conditions",
]
