"""Globus in the running service: its sources, the clients actions use, and what is watched.

The service turns Globus on when `globus.enabled` and a token file exists (`watcher login` ran);
a user who never logged in has no Globus source and hears nothing about Globus. The watched
tasks are those on the store's watch list (workflows, stage-out actions) plus those a rule
names with `globus_task: {task: <id>}` (or a list of ids), so a hand-written rule works without
other steps; with `globus.own_tasks` (the default) every task of the user's is seen as well.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from watcher.globus.clients import GlobusClients, build_clients
from watcher.globus.login_info import read_login
from watcher.globus.settings import GlobusSettings
from watcher.globus.task_fields import TERMINAL
from watcher.globus.tokens import TokenFile
from watcher.rules.model import Rule
from watcher.sources.base import Source
from watcher.sources.globus import GlobusEndpointSource, GlobusSource
from watcher.store.db import Store
from watcher.store.models import Snapshot
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

    @property
    def sources(self) -> list[Source]:
        """The Globus sources to schedule: tasks, then endpoints."""
        return [self.tasks, self.endpoints]


def globus_parts(settings: GlobusSettings, store: Store, rules: Callable[[], Sequence[Rule]],
                 now: Callable[[], datetime]) -> GlobusParts | None:
    """The Globus sources and clients, or None when Globus is off or nobody logged in."""
    if not settings.enabled or not TokenFile(settings.token_db).exists():
        return None
    clients = build_clients(settings)
    tasks = GlobusSource(clients.ready_transfer, lambda: watched_task_ids(store, rules()),
                         chunk=settings.chunk, interval=settings.poll_interval,
                         backoff_max=settings.backoff_max, now=now,
                         own_tasks=settings.own_tasks,
                         live=live_task_ids(store) if settings.own_tasks else ())
    endpoints = GlobusEndpointSource(clients.ready_transfer,
                                     lambda: {*settings.endpoints, *tasks.endpoints},
                                     interval=settings.endpoint_interval,
                                     backoff_max=settings.backoff_max, now=now,
                                     kept_consents=lambda: login_collections(clients.tokens))
    tasks.down_after, endpoints.down_after = settings.down_after, NEVER
    return GlobusParts(clients, tasks, endpoints)


def watched_task_ids(store: Store, rules: Iterable[Rule]) -> set[str]:
    """Task ids to poll: those actions started (watched) and those rules pin by id."""
    with store.session(write=False) as session:
        ids = watched_ids(session, "globus")
    return ids | pinned_task_ids(rules)


def login_collections(tokens: TokenFile) -> list[str]:
    """The collections the stored login consented to (none when not recorded)."""
    try:
        info = read_login(tokens.path)
    except (OSError, sqlite3.Error, ValueError):
        return []
    return info.collections if info is not None else []


def live_task_ids(store: Store) -> set[str]:
    """Tasks the last snapshot saw live: after a restart each is asked for by id once, since it
    may have ended while the watcher was down, before the own-task listing's window."""
    with store.session(write=False) as session:
        rows = session.exec(select(Snapshot).where(Snapshot.source == "globus")).all()
        return {row.subject for row in rows if row.attrs.get("status") not in TERMINAL}


def pinned_task_ids(rules: Iterable[Rule]) -> set[str]:
    """Task ids written in enabled rules' `globus_task` triggers: a plain id or the plain ids
    of a list (a glob names no id; the own-task listing serves it). Triggers refuse templates."""
    found = (getattr(trigger.config, "task", None) for rule in rules if rule.enabled
             for trigger in rule.when if trigger.type == "globus_task")
    return {str(value) for matcher in found if matcher is not None
            for value in matcher.values() if value is not None}
