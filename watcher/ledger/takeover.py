"""Keeping and freeing leases: renewal while an action runs, takeover when a worker is gone.

A claim is a lease (`store.lease`, 30 s by default). The worker renews the leases it holds every
heartbeat, so an action that takes minutes (a transfer submission retrying, a slow mail server)
keeps its claim; a worker that dies stops renewing, and its claims are free when they run out.
Waiting that long is needed only when nobody can tell the worker is gone. Often somebody can:
on SQLite the instance holding the store's file lock knows every other `watcher run` is gone,
and on one host a dead process is plain to see. Then `take_over` frees its claims at once.

A killed watcher's children are not killed with it: a `qsub` it started may still be about to
queue the job that a second `qsub` would duplicate. So a worker whose process group still has a
live process is not gone yet; its lease (renewed no more) ends the wait at the latest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from watcher.store.db import Store
from watcher.store.models import PENDING, RUNNING, Intent

log = logging.getLogger(__name__)


def renew(store: Store, owner: str, *, now: datetime, lease: timedelta) -> int:
    """Extend every lease `owner` holds to `now + lease`; returns how many it holds."""
    stmt = (update(Intent)
            .where(col(Intent.status) == RUNNING, col(Intent.lease_owner) == owner)
            .values(lease_until=now + lease))
    with store.session() as session:
        return session.execute(stmt).rowcount


def foreign_owners(store: Store, owner: str) -> set[str]:
    """The other workers holding leases now (expired or not)."""
    stmt = (select(Intent.lease_owner).distinct()
            .where(col(Intent.status) == RUNNING, col(Intent.lease_owner) != owner))
    with store.session(write=False) as session:
        return {found for found in session.exec(stmt) if found is not None}


def take_over(store: Store, owner: str, *, now: datetime,
              gone: Callable[[str], bool]) -> dict[str, int]:
    """Hand the claims of every other worker that `gone` says is gone back to the queue, due
    now; returns how many were freed per worker. Their attempt counts: it may have acted."""
    freed: dict[str, int] = {}
    for other in sorted(foreign_owners(store, owner)):
        if not gone(other):
            continue
        stmt = (update(Intent)
                .where(col(Intent.status) == RUNNING, col(Intent.lease_owner) == other)
                .values(status=PENDING, lease_owner=None, lease_until=None,
                        next_attempt_at=now, updated_at=now))
        with store.session() as session:
            count = session.execute(stmt).rowcount
        if count:
            freed[other] = count
            log.info("took over %d action(s) claimed by %s, which is gone", count, other)
    return freed


def hand_back(store: Store, owner: str, *, now: datetime) -> int:
    """On a clean stop: the claims `owner` still holds go back to the queue, due now."""
    stmt = (update(Intent)
            .where(col(Intent.status) == RUNNING, col(Intent.lease_owner) == owner)
            .values(status=PENDING, lease_owner=None, lease_until=None, next_attempt_at=now,
                    updated_at=now))
    with store.session() as session:
        return session.execute(stmt).rowcount
