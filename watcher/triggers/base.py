"""The interface of a trigger type: what it is configured with and when it fires.

A trigger type is stateless. The engine keeps the state (which subjects are inside a rule's
condition, since when) and asks the trigger type three questions about attribute mappings:
does the config pick this subject (`selects`), is the subject inside the condition (`holds`), and
did this event take the subject *into* the condition (`matches_transition`). Keeping the edge
logic here keeps the engine generic across PBS jobs, Globus tasks, quotas and sources.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from watcher.events import Event


class TriggerConfig(BaseModel):
    """Base of every trigger type's config: unknown keys are errors, templates too."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_templates(cls, data: Any) -> Any:
        # Triggers are matched, never rendered: `task: "{{ workflow.x }}"` would be compared
        # as that literal text and never fire. Say so at load time instead.
        for key, value in _strings(data):
            if "{{" in value or "{%" in value:
                raise ValueError(f"'{key}' is matched as written, templates are not rendered "
                                 f"in triggers (put the value itself, or use `vars:` in actions)")
        return data


class TriggerType(ABC):
    """One trigger type; registered in `watcher.triggers.TRIGGERS` under its YAML key."""

    name: ClassVar[str]
    summary: ClassVar[str]
    Config: ClassVar[type[TriggerConfig]]
    event_kinds: ClassVar[frozenset[str]]
    # A scalar written in place of the config mapping fills this field (`source_down: pbs`).
    shorthand: ClassVar[str | None] = None
    # The attribute names this trigger's subjects have, so `subject` conditions are checked at
    # load time; None when they are not known in advance.
    attributes: ClassVar[frozenset[str] | None] = None

    @property
    def watch_kinds(self) -> frozenset[str]:
        """The event kinds that can move a subject into *or out of* the condition. The engine
        routes these to the rule, so a `for:` window closes when the subject leaves."""
        return self.event_kinds

    def subject_key(self, config: Any) -> str | None:
        """The one subject this config is pinned to (for indexing), or None for any subject."""
        return None

    @abstractmethod
    def selects(self, config: Any, attrs: Mapping[str, Any]) -> bool:
        """Whether the identity selectors (id, name, owner, ...) pick the subject."""

    @abstractmethod
    def holds(self, config: Any, attrs: Mapping[str, Any] | None) -> bool:
        """Whether the subject with these attributes is inside the level condition."""

    def matches_transition(self, config: Any, event: Event) -> bool:
        """Whether `event` takes a selected subject into the condition (an edge, not a level)."""
        if event.kind not in self.event_kinds or event.current is None:
            return False
        return (self.selects(config, event.current) and self.holds(config, event.current)
                and not self.inside(config, event.previous))

    def inside(self, config: Any, attrs: Mapping[str, Any] | None) -> bool:
        """Selected and inside the condition. Entering is becoming `inside`, so a job moved
        into the selection (routed to the queue, renamed) while in the state also enters."""
        return attrs is not None and self.selects(config, attrs) and self.holds(config, attrs)

    def describe(self, config: Any) -> str:
        """A one-line form for `watcher rules list`: `pbs_job(name=sim-*, exit_status=-29)`."""
        fields = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return f"{self.name}({describe_fields(fields)})"


def describe_fields(fields: Mapping[str, Any]) -> str:
    """`key=value, ...`, nested mappings in braces (shared with conditions)."""
    parts = []
    for key, value in fields.items():
        if isinstance(value, Mapping):
            shown = f"{{{describe_fields(value)}}}"
        elif isinstance(value, list):
            shown = "[" + ", ".join(str(item) for item in value) + "]"
        else:
            shown = value
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def _strings(data: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in a raw config with its dotted key."""
    if isinstance(data, str):
        return [(path, data)]
    if isinstance(data, Mapping):
        return [pair for key, value in data.items()
                for pair in _strings(value, f"{path}.{key}" if path else str(key))]
    if isinstance(data, list):
        return [pair for item in data for pair in _strings(item, path)]
    return []
