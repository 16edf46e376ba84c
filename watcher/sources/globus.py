"""The Globus sources: watched transfer tasks, and the health of the endpoints they use.

`GlobusSource` asks `task_list` for the watched task ids in chunks (ceil(N / chunk) requests a
poll, never one `get_task` per task). `GlobusEndpointSource` asks `get_endpoint` once per
endpoint, at a slower pace. Both:

- return `Observation.failed` on 429/5xx/timeouts (after the SDK's own bounded retries), so
  unknown is never read as change, and then wait longer before the next poll (`Pacer`);
- on dead credentials return a failed observation marked for the service's credentials edge
  (`watcher.globus.credentials`) and pause: `due()` stays False, asking nothing over the
  network, until new tokens are stored;
- run every SDK call in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import globus_sdk

from watcher.events import GLOBUS_ENDPOINT, GLOBUS_TASK
from watcher.globus.credentials import DETAIL_KEY, credentials_failure
from watcher.globus.endpoints import probe_endpoint
from watcher.globus.errors import CredentialsExpired, describe, is_transient
from watcher.globus.pacing import Pacer
from watcher.globus.tasks import endpoints_of, fetch_tasks, task_attributes
from watcher.sources.base import Observation, Source

TransferFactory = Callable[[], globus_sdk.TransferClient]
Ids = Callable[[], Iterable[str]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _GlobusPolling(Source):
    """Pace and credential pause, shared by both Globus sources. `factory` returns the
    TransferClient or raises `CredentialsExpired` after a local check (no request)."""

    def __init__(self, factory: TransferFactory, *, name: str, interval: float,
                 backoff_max: float, now: Callable[[], datetime],
                 clock: Callable[[], float] | None) -> None:
        self.name = name
        self._factory = factory
        self._now = now
        self.pacer = Pacer(interval, backoff_max, **({"clock": clock} if clock else {}))
        self.paused = False

    def due(self) -> bool:
        """Whether to poll now: not while credentials are dead, else at the paced time."""
        if self.paused:
            try:
                self._factory()
            except CredentialsExpired:
                return False
            self.paused = False  # new tokens were stored: resume at once
            return True
        return self.pacer.due()

    async def poll(self) -> Observation:
        at = self._now()
        try:
            obs = await asyncio.to_thread(self._ask, at)
        except CredentialsExpired as exc:
            self.paused = True
            return credentials_failure(self.name, at, str(exc))
        except globus_sdk.GlobusError as exc:
            self.pacer.failed()
            return Observation.failed(self.name, at, describe(exc), {
                "transient": is_transient(exc), "next_poll_in": self.pacer.delay()})
        self.pacer.succeeded()
        return obs

    @abstractmethod
    def _ask(self, at: datetime) -> Observation:
        """One poll's requests (in a worker thread); raises the SDK's errors."""


class GlobusSource(_GlobusPolling):
    """Watches the Globus transfer tasks whose ids `watched_ids` returns."""

    kind = GLOBUS_TASK

    def __init__(self, transfer_client_factory: TransferFactory, watched_ids: Ids, *,
                 chunk: int = 100, name: str = "globus", interval: float = 0.0,
                 backoff_max: float = 600.0, now: Callable[[], datetime] = _utc_now,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(transfer_client_factory, name=name, interval=interval,
                         backoff_max=backoff_max, now=now, clock=clock)
        self.watched_ids = watched_ids
        self.chunk = chunk
        # Every endpoint a watched task used, for the endpoint probe.
        self.endpoints: set[str] = set()

    def _ask(self, at: datetime) -> Observation:
        ids = sorted(set(self.watched_ids()))
        if not ids:
            return Observation(self.name, True, at, detail={"watched": 0, "requests": 0})
        docs, requests = fetch_tasks(self._factory(), ids, self.chunk)
        wanted = set(ids)
        subjects = {doc["task_id"]: task_attributes(doc) for doc in docs
                    if doc.get("task_id") in wanted}
        self.endpoints |= endpoints_of(subjects)
        return Observation(self.name, True, at, subjects=subjects,
                           detail={"watched": len(ids), "requests": requests,
                                   DETAIL_KEY: "ok"})


class GlobusEndpointSource(_GlobusPolling):
    """Probes endpoints for "inactive" and "consent required". An endpoint once probed stays
    probed for the life of the process: not asking about it is not its disappearance."""

    kind = GLOBUS_ENDPOINT

    def __init__(self, transfer_client_factory: TransferFactory, endpoint_ids: Ids, *,
                 name: str = "globus-endpoints", interval: float = 300.0,
                 backoff_max: float = 600.0, now: Callable[[], datetime] = _utc_now,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(transfer_client_factory, name=name, interval=interval,
                         backoff_max=backoff_max, now=now, clock=clock)
        self.endpoint_ids = endpoint_ids
        self._asked: set[str] = set()

    def _ask(self, at: datetime) -> Observation:
        self._asked |= set(self.endpoint_ids())
        if not self._asked:
            return Observation(self.name, True, at, detail={"requests": 0})
        client = self._factory()
        subjects, missing, unreadable = {}, set(), set()
        for endpoint_id in sorted(self._asked):
            status, attrs = probe_endpoint(client, endpoint_id)
            if attrs is not None:
                subjects[endpoint_id] = attrs
            else:
                (missing if status == "missing" else unreadable).add(endpoint_id)
        return Observation(self.name, True, at, subjects=subjects, missing_ok=missing,
                           unreadable=unreadable,
                           detail={"requests": len(self._asked), DETAIL_KEY: "ok"})
