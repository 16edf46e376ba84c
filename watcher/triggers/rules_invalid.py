"""`rules_invalid`: a rule file the running service reloads is invalid ("mail me when my rule
file breaks").

```yaml
when: rules_invalid                              # any rule file
when: {rules_invalid: {file: "*/pbs-notify.yaml"}}  # a glob on the file's path
do:
  - email: {to: "{{ user.email }}", subject: "watcher: {{ event.subject }} is invalid",
            body: "{{ event.attrs.error }}"}
```

The subject is the file's path; its attributes are `path`, `valid` (false), `errors` (every
error, with line and field), `error` (the first), `stale` (true while the file's last good
version stays in force) and `rules_in_force` (the names of those rules). Emitted once per
invalid version of a file: the service reloads every 2 s, but an unchanged file (or one only
touched) tells nothing new, and neither does a restart that finds it as it was. A new broken
version fires again; the file fixed emits `valid: true`, which closes a `for:` window and fires
nothing. The rule that listens must be in force, so keep it in another file than the ones it
watches (or rely on a broken file's last good version, which stays in force).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from watcher.events import RULES_INVALID, Event
from watcher.triggers.base import TriggerConfig, TriggerType


class RulesInvalidConfig(TriggerConfig):
    """Which files: a glob on the path; none means any."""

    file: str | None = None


class RulesInvalidTrigger(TriggerType):
    """A rule file was found invalid when the service (re)loaded it."""

    name = "rules_invalid"
    summary = "a rule file the service reloads is invalid (once per broken version)"
    Config = RulesInvalidConfig
    event_kinds = frozenset({RULES_INVALID})
    shorthand = "file"
    attributes = frozenset({"path", "valid", "errors", "error", "stale", "rules_in_force",
                            "sha256"})

    def selects(self, config: RulesInvalidConfig, attrs: Mapping[str, Any]) -> bool:
        """`file:` as a glob on the rule file's path; none selects every file."""
        return config.file is None or fnmatch.fnmatchcase(str(attrs.get("path")), config.file)

    def holds(self, config: RulesInvalidConfig, attrs: Mapping[str, Any] | None) -> bool:
        """Inside while the file's latest version fails to load."""
        return attrs is not None and attrs.get("valid") is False

    def matches_transition(self, config: RulesInvalidConfig, event: Event) -> bool:
        # Each broken version is its own edge: a file edited from one error to another fires
        # again, though it never was valid in between.
        """A file that becomes invalid, or stays invalid with different content, fires."""
        current, previous = event.current, event.previous
        if event.kind not in self.event_kinds or not self.inside(config, current):
            return False
        return previous is None or previous.get("valid") is not False or \
            previous.get("sha256") != (current or {}).get("sha256")
