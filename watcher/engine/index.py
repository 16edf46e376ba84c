"""Which rules an event concerns, looked up by (event kind, subject), not rules x subjects.

A trigger pinned to one subject (`pbs_job: {id: 12.srv}`) is filed under that subject; any other
trigger under (kind, None), which every event of that kind consults.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from watcher.events import Event
from watcher.rules.model import Rule


class TriggerIndex:
    """Enabled rules by the (event kind, subject) their triggers listen to, so an event meets
    only its rules, not rules x jobs."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        by_key: dict[tuple[str, str | None], list[Rule]] = defaultdict(list)
        for rule in rules:
            if not rule.enabled:
                continue
            for trigger in rule.when:
                for kind in trigger.watch_kinds:
                    bucket = by_key[(kind, trigger.subject_key())]
                    if rule not in bucket:
                        bucket.append(rule)
        self._by_key = dict(by_key)

    def candidates(self, event: Event) -> list[Rule]:
        """The enabled rules with a trigger that may fire on, or be left by, this event."""
        pinned = self._by_key.get((event.kind, event.subject), [])
        anyone = self._by_key.get((event.kind, None), [])
        if not pinned:
            return anyone
        return [*pinned, *(rule for rule in anyone if rule not in pinned)]
