"""`globus_task`: a watched Globus transfer task enters a status.

```yaml
when: {globus_task: {task: "{{ workflow.stage_in_task }}", status: SUCCEEDED}}
when: {globus_task: {label: "stage-*", status: [FAILED, INACTIVE]}}
when: {globus_task: {label: "stage-*", status: ACTIVE, from: {status: INACTIVE}}}  # resumed
when: {globus_task: {is_paused: true}}
when: {globus_task: {task: [ID1, ID2], status: FAILED}}
```

Selectors: `task` (a task id, a list of ids, or any other matcher) and `label` (a matcher,
usually a glob or a list). Levels:
`status` (ACTIVE, INACTIVE, SUCCEEDED, FAILED; one or a list), `nice_status` (`OK`, `Queued`, or
the name of a recent error such as `PERMISSION_DENIED`) and `is_paused`. The rule fires when a
selected task *enters* the levels; `from:` also requires the attributes before the change to
match. INACTIVE is not terminal (the task waits for credentials, then resumes): a rule on
FAILED does not fire for it, and a task going INACTIVE → ACTIVE → SUCCEEDED fires SUCCEEDED
rules once. The tasks seen are all the user's own (`globus.own_tasks`, on by default: started
from the web app, globus-cli or a script), those a workflow or action put on the watch list,
and those a rule names by id with `task:` (followed even with `own_tasks: false`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from watcher.events import GLOBUS_TASK, Event
from watcher.globus.task_fields import STATUSES, task_attributes
from watcher.lang.errors import expected_one_of
from watcher.lang.matchers import Equals, Matcher, MatcherField
from watcher.triggers.base import TriggerConfig, TriggerType


def _known_statuses(matcher: Matcher) -> Matcher:
    for value in matcher.values():
        if str(value) not in STATUSES:
            raise ValueError(expected_one_of(STATUSES, value))
    return matcher


_Status = Annotated[MatcherField, AfterValidator(_known_statuses)]
_LEVELS = ("status", "nice_status", "is_paused")


class TaskFromConfig(TriggerConfig):
    """What the task's attributes were before the change."""

    status: _Status | None = None
    nice_status: MatcherField | None = None
    is_paused: bool | None = None


class GlobusTaskConfig(TriggerConfig):
    """Which tasks (selectors) entering which condition (levels) fire the rule."""

    task: MatcherField | None = None
    label: MatcherField | None = None
    status: _Status | None = None
    nice_status: MatcherField | None = None
    is_paused: bool | None = None
    from_: TaskFromConfig | None = Field(default=None, alias="from")


def _levels_hold(levels: TaskFromConfig | GlobusTaskConfig, attrs: Mapping[str, Any]) -> bool:
    for name in _LEVELS:
        wanted = getattr(levels, name)
        if wanted is None:
            continue
        value = attrs.get(name)
        ok = value is wanted if isinstance(wanted, bool) else wanted.matches(value)
        if not ok:
            return False
    return True


class GlobusTaskTrigger(TriggerType):
    """A watched Globus transfer task enters a status, a nice_status or a pause."""

    name = "globus_task"
    summary = "a Globus transfer task enters a status (SUCCEEDED, FAILED, INACTIVE, ...)"
    Config = GlobusTaskConfig
    event_kinds = frozenset({GLOBUS_TASK})
    attributes = frozenset(task_attributes({}))

    def subject_key(self, config: GlobusTaskConfig) -> str | None:
        """The task id when the rule names exactly one."""
        task = config.task
        return str(task.expected) if isinstance(task, Equals) else None

    def selects(self, config: GlobusTaskConfig, attrs: Mapping[str, Any]) -> bool:
        """The task id and label matchers, each when given."""
        if config.task is not None and not config.task.matches(attrs.get("task_id")):
            return False
        return config.label is None or config.label.matches(attrs.get("label"))

    def holds(self, config: GlobusTaskConfig, attrs: Mapping[str, Any] | None) -> bool:
        """Status, nice status and the other levels the rule gives all hold."""
        return attrs is not None and _levels_hold(config, attrs)

    def matches_transition(self, config: GlobusTaskConfig, event: Event) -> bool:
        """As the base, and `from:` (if given) held before the change."""
        if not super().matches_transition(config, event):
            return False
        previous = event.previous
        return config.from_ is None or (previous is not None
                                        and _levels_hold(config.from_, previous))
