"""`credentials_expired`: Globus refused the stored refresh token; Globus work is paused.

```yaml
when: credentials_expired
do:
  - email: {to: "{{ user.email }}", subject: "watcher: run `watcher login` on {{ vars.host }}"}
```

Emitted once per expiry (subject "globus", attributes `expired: true` and `reason`), however
long the tokens stay dead and across restarts. Globus polling resumes by itself after
`watcher login` stores new tokens; that first good poll emits the same kind of event with
`expired: false`, which closes a `for:` window but fires nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.events import CREDENTIALS_EXPIRED
from watcher.triggers.base import TriggerConfig, TriggerType


class CredentialsConfig(TriggerConfig):
    """Nothing to configure: there is one set of Globus credentials."""


class CredentialsExpiredTrigger(TriggerType):
    """The stored Globus refresh token is dead: run `watcher login`."""

    name = "credentials_expired"
    summary = "Globus refused the stored refresh token (run `watcher login`)"
    Config = CredentialsConfig
    event_kinds = frozenset({CREDENTIALS_EXPIRED})
    attributes = frozenset({"source", "expired", "reason"})

    def selects(self, config: CredentialsConfig, attrs: Mapping[str, Any]) -> bool:
        """There is one credential subject; the trigger has no selector."""
        return True

    def holds(self, config: CredentialsConfig, attrs: Mapping[str, Any] | None) -> bool:
        """Inside while the stored Globus credentials are expired."""
        return attrs is not None and attrs.get("expired") is True
