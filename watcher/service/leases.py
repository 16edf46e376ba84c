"""One poller per source when several instances share a PostgreSQL store.

Each source has a lease row. Before each poll an instance takes or renews it: renewing when it
holds it, taking it when it is free or ran out. The holder polls and commits what it saw; the
others evaluate and act on that (they claim its intents). While a poll lasts its lease is kept
alive, and the commit of an observation checks the lease under a row lock (`fence`), so a
holder that stalled past its lease cannot commit over the instance that took the source over.

The lease lasts `length` from each renewal, 1.5 poll intervals by default: the holder's next
poll (one interval later, give or take the jitter) renews it in time, and a holder that died
leaves the source free half an interval after its poll was due; the first instance to try
then (see `SourceLeases.take`) takes over, within two intervals of the death.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from watcher.store.db import Store
from watcher.store.models import SourceLease

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Take:
    """The answer of `take`: held (and `new` if just taken), or free at `free_at`."""

    held: bool
    new: bool = False
    free_at: datetime | None = None
    holder: str | None = None


@dataclass
class SourceLeases:
    """The source leases of one instance, and which it holds now."""

    store: Store
    owner: str
    length: timedelta
    now: Callable[[], datetime]
    held: set[str] = field(default_factory=set)

    def take(self, source: str) -> Take:
        """Renew or take the lease of `source`; else say when it runs out and who holds it."""
        now = self.now()
        until = now + self.length
        with self.store.session() as session:
            taken = session.execute(
                update(SourceLease)
                .where(col(SourceLease.source) == source)
                .where((col(SourceLease.owner) == self.owner) | (col(SourceLease.until) < now))
                .values(owner=self.owner, until=until)
                .returning(SourceLease.owner, SourceLease.acquired_at)
            ).first()
            if taken is None:
                taken = session.execute(
                    postgresql.insert(SourceLease)
                    .values(source=source, owner=self.owner, until=until, acquired_at=now)
                    .on_conflict_do_nothing(index_elements=["source"])
                    .returning(SourceLease.owner)
                ).first()
            if taken is not None:
                new = source not in self.held
                if new:
                    self._mark_taken(session, source, now)
                return Take(held=True, new=new)
            row = session.get(SourceLease, source)
        if source in self.held:
            self.held.discard(source)
            log.info("source %s is polled by %s now", source, row.owner if row else "?")
        return Take(held=False, free_at=row.until if row else now,
                    holder=row.owner if row else None)

    def _mark_taken(self, session: Session, source: str, now: datetime) -> None:
        session.execute(update(SourceLease).where(col(SourceLease.source) == source)
                        .values(acquired_at=now))
        self.held.add(source)
        log.info("polling source %s", source)

    def fence(self, session: Session, source: str) -> bool:
        """In the transaction that commits an observation: whether this instance still holds
        the source. The row stays locked to the commit, so nobody takes it over meanwhile."""
        owner = session.exec(select(SourceLease.owner).where(SourceLease.source == source)
                             .with_for_update()).first()
        if owner == self.owner:
            return True
        self.held.discard(source)
        log.warning("source %s: poll not recorded, %s took the source over meanwhile",
                    source, owner)
        return False

    @asynccontextmanager
    async def kept(self, source: str) -> AsyncIterator[None]:
        """Renew the lease of `source` while the block (a poll, its commit and the actions it
        started) runs, and once more at its end."""
        async def keep() -> None:
            while True:
                await asyncio.sleep(self.length.total_seconds() / 3)
                await asyncio.to_thread(self.take, source)

        keeper = asyncio.ensure_future(keep())
        try:
            yield
        finally:
            keeper.cancel()
        # A full lease from the end of the block: the next poll, an interval on, renews it.
        await asyncio.to_thread(self.take, source)

    def release_all(self) -> None:
        """On a clean stop: every lease held ends now, so another instance takes over at once."""
        now = self.now()
        with self.store.session() as session:
            session.execute(update(SourceLease).where(col(SourceLease.owner) == self.owner)
                            .values(until=now))
        self.held.clear()
