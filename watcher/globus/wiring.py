"""Globus in the running service: its sources, the clients actions use, and what is watched.

The service turns Globus on when `globus.enabled` and a token file exists (`watcher login` ran);
a user who never logged in has no Globus source and hears nothing about Globus. The watched
tasks are those on the store's watch list (workflows, stage-out actions) plus those a rule
names with `globus_task: {task: <id>}`, so a hand-written rule works without other steps.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.config import GlobusSettings
from watcher.globus.clients import GlobusClients, build_clients
from watcher.globus.tokens import TokenFile
from watcher.rules.model import Rule
from watcher.sources.base import Source
from watcher.sources.globus import GlobusEndpointSource, GlobusSource
from watcher.store.db import Store
from watcher.store.watch import watched_ids

# The endpoint probe reports no outage of its own: the task source already says "globus" is
# down, and two `source_down` events for one outage would mail users twice.
NEVER = sys.maxsize


@dataclass
class GlobusParts:
    """What the service adds when Globus is on."""

    clients: GlobusClients
    tasks: GlobusSource
    endpoints: GlobusEndpointSource
    down_after: dict[str, int]

    @property
    def sources(self) -> list[Source]:
        return [self.tasks, self.endpoints]

    def services(self) -> dict[str, Any]:
        """For actions: `globus_transfer` (a TransferClient that raises `CredentialsExpired`
        at once while the tokens are dead) and `globus` (the clients, tokens, authorizer)."""
        return {"globus_transfer": self.clients.transfer, "globus": self.clients}


def globus_parts(settings: GlobusSettings, store: Store, rules: Callable[[], Sequence[Rule]],
                 now: Callable[[], datetime]) -> GlobusParts | None:
    """The Globus sources and clients, or None when Globus is off or nobody logged in."""
    if not settings.enabled or not TokenFile(settings.token_db).exists():
        return None
    clients = build_clients(settings)
    tasks = GlobusSource(clients.ready_transfer, lambda: watched_task_ids(store, rules()),
                         chunk=settings.chunk, interval=settings.poll_interval,
                         backoff_max=settings.backoff_max, now=now)
    endpoints = GlobusEndpointSource(clients.ready_transfer,
                                     lambda: {*settings.endpoints, *tasks.endpoints},
                                     interval=settings.endpoint_interval,
                                     backoff_max=settings.backoff_max, now=now)
    down_after = {tasks.name: settings.down_after, endpoints.name: NEVER}
    return GlobusParts(clients, tasks, endpoints, down_after)


def watched_task_ids(store: Store, rules: Iterable[Rule]) -> set[str]:
    with store.session(write=False) as session:
        ids = watched_ids(session, "globus")
    return ids | pinned_task_ids(rules)


def pinned_task_ids(rules: Iterable[Rule]) -> set[str]:
    """Task ids written in enabled rules' `globus_task` triggers (triggers refuse templates)."""
    found = (getattr(trigger.config, "task", None) for rule in rules if rule.enabled
             for trigger in rule.when if trigger.type == "globus_task")
    return {task for task in found if task}
