"""`action_failed`: an action gave up for good (permanent error, or retries exhausted).

```yaml
when: {action_failed: {rule: "release-*", action: qrls}}
when: action_failed            # any rule, any action
```

The ledger turns a dead intent into one event whose subject is the firing's subject (a job or
task id) and whose attributes are `rule`, `action`, `step`, `attempts` and `error`, so a rule can
mail someone the error text: `{{ event.attrs.error }}`, `{{ event.attrs.rule }}`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from watcher.events import ACTION_FAILED, Event
from watcher.triggers.base import TriggerConfig, TriggerType


class ActionFailedConfig(TriggerConfig):
    """Which failures: rule name glob and action type; none means any."""

    rule: str | None = None
    action: str | None = None


class ActionFailedTrigger(TriggerType):
    """A dead intent: the action will not be tried again."""

    name = "action_failed"
    summary = "an action failed for good (permanent error or retries exhausted)"
    Config = ActionFailedConfig
    event_kinds = frozenset({ACTION_FAILED})
    shorthand = "rule"
    attributes = frozenset({"rule", "action", "step", "key", "attempts", "error"})

    def selects(self, config: ActionFailedConfig, attrs: Mapping[str, Any]) -> bool:
        """The rule (a glob) and the action (exact) of the dead intent, when given."""
        if config.rule is not None and not fnmatch.fnmatchcase(str(attrs.get("rule")),
                                                               config.rule):
            return False
        return config.action is None or attrs.get("action") == config.action

    def holds(self, config: ActionFailedConfig, attrs: Mapping[str, Any] | None) -> bool:
        """A dead intent is inside the condition for as long as it is known."""
        return attrs is not None

    def matches_transition(self, config: ActionFailedConfig, event: Event) -> bool:
        # Each dead intent is its own edge: two failures of one subject are two events.
        """Every dead intent of a selected rule fires, even a subject's second one."""
        return (event.kind in self.event_kinds and event.current is not None
                and self.selects(config, event.current))
