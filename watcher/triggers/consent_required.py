"""`consent_required`: a collection watcher uses refuses the login until the user consents.

```yaml
when: consent_required                                  # any collection
when: {consent_required: {collection: 4d3e...}}
do:
  - email:
      to: "{{ user.email }}"
      subject: "Globus needs your consent for {{ event.attrs.display_name or event.subject }}"
      body: "Run: {{ event.attrs.login_command }}"
```

Globus Connect Server v5 mapped collections refuse transfers (`ConsentRequired`) until the user
consented to their `data_access` scope; a running transfer then waits INACTIVE. The endpoint
probe asks each collection of `globus.endpoints` and of watched tasks, and this trigger fires
when one *enters* that state, with `login_command` (`watcher login --collection ID ...`, keeping
the consents the login has) and `required_scopes` among its attributes. It is the
`globus_endpoint` event with `consent_required: true`, named for what the user must do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.events import GLOBUS_ENDPOINT
from watcher.lang.matchers import Equals, MatcherField
from watcher.triggers.base import TriggerConfig, TriggerType
from watcher.triggers.globus_endpoint import GlobusEndpointTrigger


class ConsentRequiredConfig(TriggerConfig):
    """Which collections (a matcher on the id; all when absent)."""

    collection: MatcherField | None = None


class ConsentRequiredTrigger(TriggerType):
    """A collection needs the user's data_access consent: run the `login_command`."""

    name = "consent_required"
    summary = "a Globus collection needs your consent (mail the `watcher login` to run)"
    Config = ConsentRequiredConfig
    event_kinds = frozenset({GLOBUS_ENDPOINT})
    shorthand = "collection"
    attributes = GlobusEndpointTrigger.attributes | {"entity_type", "login_command"}

    def subject_key(self, config: ConsentRequiredConfig) -> str | None:
        """The collection id when the rule names exactly one."""
        wanted = config.collection
        return str(wanted.expected) if isinstance(wanted, Equals) else None

    def selects(self, config: ConsentRequiredConfig, attrs: Mapping[str, Any]) -> bool:
        """The collection matcher against the collection's id; no matcher selects all."""
        return config.collection is None or config.collection.matches(attrs.get("id"))

    def holds(self, config: ConsentRequiredConfig, attrs: Mapping[str, Any] | None) -> bool:
        """Inside while Globus says the collection needs a new consent."""
        return attrs is not None and attrs.get("consent_required") is True
