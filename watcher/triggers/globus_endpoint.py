"""`globus_endpoint`: an endpoint the watcher probes needs the user (or stops needing them).

```yaml
when: globus_endpoint                                        # any endpoint needs attention
when: {globus_endpoint: {endpoint: 4d3e..., inactive: true}}
when: {globus_endpoint: {consent_required: true}}
when: {globus_endpoint: {endpoint: 4d3e..., inactive: false}}   # usable again
```

Probed endpoints are those in `globus.endpoints` and those of watched tasks. `inactive` is the
endpoint document's `activated: false` (the user's credentials for it expired); a
`consent_required` endpoint refused to answer until the user grants a data_access consent.
With neither flag the rule fires when an endpoint becomes inactive *or* consent-required.
A flag set to false fires when the endpoint leaves that condition, never on the first probe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.events import GLOBUS_ENDPOINT, Event
from watcher.triggers.base import TriggerConfig, TriggerType

_FLAGS = ("inactive", "consent_required")


class GlobusEndpointConfig(TriggerConfig):
    """Which endpoint, and which flags it must enter."""

    endpoint: str | None = None
    inactive: bool | None = None
    consent_required: bool | None = None


class GlobusEndpointTrigger(TriggerType):
    """An endpoint becomes inactive or consent-required (or stops being so)."""

    name = "globus_endpoint"
    summary = "a Globus endpoint becomes inactive or needs consent (or recovers)"
    Config = GlobusEndpointConfig
    event_kinds = frozenset({GLOBUS_ENDPOINT})
    attributes = frozenset({"id", "display_name", "entity_type", "inactive",
                            "consent_required", "required_scopes", "login_command"})

    def subject_key(self, config: GlobusEndpointConfig) -> str | None:
        """The endpoint id when the rule names one."""
        return config.endpoint

    def selects(self, config: GlobusEndpointConfig, attrs: Mapping[str, Any]) -> bool:
        """No `endpoint:` selects every endpoint watched."""
        return config.endpoint is None or attrs.get("id") == config.endpoint

    def holds(self, config: GlobusEndpointConfig, attrs: Mapping[str, Any] | None) -> bool:
        """Every flag the rule gives has that value; with none given, any flag is true."""
        if attrs is None:
            return False
        wanted = {flag: getattr(config, flag) for flag in _FLAGS
                  if getattr(config, flag) is not None}
        if not wanted:
            return any(attrs.get(flag) is True for flag in _FLAGS)
        return all(attrs.get(flag) is value for flag, value in wanted.items())

    def matches_transition(self, config: GlobusEndpointConfig, event: Event) -> bool:
        # "Usable again" needs a before: a first probe of a fine endpoint is no recovery.
        """As the base, but a recovery (a flag false) needs an earlier probe to recover from."""
        recovery = any(getattr(config, flag) is False for flag in _FLAGS)
        if recovery and event.previous is None:
            return False
        return super().matches_transition(config, event)
