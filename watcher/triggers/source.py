"""`source_down` / `source_up`: a data source (PBS, Globus, quota) stopped or resumed answering.

```yaml
when: {source_down: {source: pbs}}
when: {source_up: pbs}          # the same, short form
when: source_down               # any source
```

The state layer emits these events after a configured number of failed polls (and on the first
good poll after that), with the source's name as the subject. Their attributes, when the state
layer gives them, are `{"source": name, "up": bool, ...}`: `holds` reads `up`, so a `for:` window
on `source_down` lasts while the source stays down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import field_validator

from watcher.events import SOURCE_DOWN, SOURCE_UP, Event
from watcher.lang.errors import expected_one_of
from watcher.triggers.base import TriggerConfig, TriggerType

SOURCES = ("pbs", "globus", "quota")


class SourceConfig(TriggerConfig):
    """Which source; none means any."""

    source: Literal["pbs", "globus", "quota"] | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if value is not None and value not in SOURCES:
            raise ValueError(expected_one_of(SOURCES, value))
        return value


class _SourceTrigger(TriggerType):
    Config = SourceConfig
    shorthand = "source"
    up: bool

    @property
    def watch_kinds(self) -> frozenset[str]:
        # A `source_up` event ends a `source_down` window, and the other way round.
        return frozenset({SOURCE_DOWN, SOURCE_UP})

    def subject_key(self, config: SourceConfig) -> str | None:
        return config.source

    def selects(self, config: SourceConfig, attrs: Mapping[str, Any]) -> bool:
        return config.source is None or attrs.get("source") == config.source

    def holds(self, config: SourceConfig, attrs: Mapping[str, Any] | None) -> bool:
        return attrs is not None and attrs.get("up") is self.up

    def matches_transition(self, config: SourceConfig, event: Event) -> bool:
        # The event itself is the edge (the state layer emits it once per outage).
        return event.kind in self.event_kinds and config.source in (None, event.subject)


class SourceDownTrigger(_SourceTrigger):
    """A source failed enough polls in a row to count as down."""

    name = "source_down"
    summary = "a data source (pbs, globus, quota) stopped answering"
    event_kinds = frozenset({SOURCE_DOWN})
    up = False


class SourceUpTrigger(_SourceTrigger):
    """A source that was down answered again."""

    name = "source_up"
    summary = "a data source that was down answers again"
    event_kinds = frozenset({SOURCE_UP})
    up = True
