"""This `watcher run` in the store: registered at start, a heartbeat, gone on a clean stop.

The heartbeat renews the claims of the actions this instance runs (`watcher.ledger.takeover`)
and notes that it is alive (`watcher status` lists instances). It also decides whether other
instances are gone, so their claims need not wait for their leases to run out:

- an instance whose heartbeat is older than a lease is gone (its claims have run out anyway);
- on SQLite the instance holding the store's file lock (`exclusive`) knows every other one is;
- on this host, a process that no longer runs is gone, once no child of it (a `qsub`) is left
  in its process group: it may still be queueing a job.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from watcher.ledger import takeover
from watcher.service.processes import group_alive, process_alive
from watcher.store.db import Store
from watcher.store.models import Instance, SourceLease

log = logging.getLogger(__name__)


def owner_pid(owner: str) -> tuple[str, int] | None:
    """The host and pid in a lease owner named `host:pid:nonce` (`default_owner()`)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


@dataclass
class Presence:
    """This instance's row, its heartbeat, and the judgement of others (see the module)."""

    store: Store
    owner: str
    lease: timedelta
    now: Callable[[], datetime]
    exclusive: bool = False
    host: str = field(default_factory=socket.gethostname)
    # Exclusive: claims of a gone instance whose children still run wait to be taken over.
    waiting: bool = False
    _known: dict[str, Instance] = field(default_factory=dict)

    def start(self, sources: list[str]) -> dict[str, int]:
        """Register; take over the claims of instances that are gone; returns what was freed."""
        now = self.now()
        with self.store.session() as session:
            session.merge(Instance(owner=self.owner, host=self.host, pid=os.getpid(),
                                   pgid=os.getpgid(0), started_at=now, heartbeat_at=now,
                                   sources=sorted(sources)))
        return self._judge(now)

    def beat(self, holding: bool) -> dict[str, int]:
        """Say this instance is alive; renew its claims if it `holding` any; free the claims
        of instances that are gone. Returns what was freed, per instance."""
        now = self.now()
        with self.store.session() as session:
            row = session.get(Instance, self.owner)
            if row is not None:
                row.heartbeat_at = now
            else:  # removed while this instance was stalled past a lease: back again
                session.add(Instance(owner=self.owner, host=self.host, pid=os.getpid(),
                                     pgid=os.getpgid(0), started_at=now, heartbeat_at=now))
        if holding:
            takeover.renew(self.store, self.owner, now=now, lease=self.lease)
        return self._judge(now)

    def stop(self) -> int:
        """A clean stop: hand back any claim still held, and leave. Returns the claims."""
        handed = takeover.hand_back(self.store, self.owner, now=self.now())
        with self.store.session() as session:
            session.execute(delete(Instance).where(col(Instance.owner) == self.owner))
        return handed

    def take_over(self) -> dict[str, int]:
        """Free the claims of instances that are gone (also between heartbeats)."""
        return self._judge(self.now())

    def gone(self, owner: str) -> bool:
        """Whether the instance `owner` is gone for good (see the module docstring)."""
        row = self._known.get(owner)
        if row is not None and row.heartbeat_at < self.now() - self.lease:
            return True
        parsed = owner_pid(owner)
        if parsed is None or parsed[0] != self.host:
            return self.exclusive
        pid = parsed[1]
        # Under the file lock a live `pid` is another process that reused the number.
        if not self.exclusive and process_alive(pid):
            return False
        pgid = row.pgid if row is not None else pid
        # A group this process shares (a shell loop restarting watcher) says nothing.
        return not (pgid == pid and pgid != os.getpgid(0) and group_alive(pgid))

    def _judge(self, now: datetime) -> dict[str, int]:
        with self.store.session(write=False) as session:
            self._known = {row.owner: row for row in session.exec(select(Instance))}
        freed = takeover.take_over(self.store, self.owner, now=now, gone=self.gone)
        if self.exclusive:
            self.waiting = bool(takeover.foreign_owners(self.store, self.owner))
        stale = [owner for owner in self._known if owner != self.owner and self.gone(owner)]
        if stale:  # and the sources they polled are free now, not when their leases end
            with self.store.session() as session:
                session.execute(delete(Instance).where(col(Instance.owner).in_(stale)))
                session.execute(update(SourceLease).where(col(SourceLease.owner).in_(stale))
                                .values(until=now))
        return freed
