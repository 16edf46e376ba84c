"""The Globus sources: watched transfer tasks, and the health of the endpoints they use.

`GlobusSource` asks `task_list` for the watched task ids in chunks (ceil(N / chunk) requests a
poll, never one `get_task` per task). With `own_tasks` it first lists the user's own tasks that
are live or ended since the last poll (one paged request, `watcher.globus.tasks`), so rules
see transfers started anywhere; watched ids that listing answered are not asked again, and an
own task last seen live is asked by id until it is seen ended (it may have ended while the
watcher was down, before the listing's window). `GlobusEndpointSource` asks `get_endpoint` once per
endpoint, at a slower pace. Both:

- return `Observation.failed` on 429/5xx/timeouts (after the SDK's own bounded retries), so
  unknown is never read as change, and then wait longer before the next poll (`Pacer`);
- on dead credentials return a failed observation marked for the service's credentials edge
  (`watcher.sources.credentials`) and pause: `due()` stays False, asking nothing over the
  network, until new tokens are stored;
- run every SDK call in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import globus_sdk

from watcher.events import GLOBUS_ENDPOINT, GLOBUS_TASK
from watcher.globus.endpoints import probe_endpoint
from watcher.globus.errors import CredentialsExpired, describe, is_transient
from watcher.globus.pacing import Pacer
from watcher.globus.task_fields import TERMINAL, endpoints_of, task_attributes
from watcher.globus.tasks import fetch_own_tasks, fetch_tasks
from watcher.sources.base import Observation, Source
from watcher.sources.credentials import DETAIL_KEY, credentials_failure

TransferFactory = Callable[[], globus_sdk.TransferClient]
Ids = Callable[[], Iterable[str]]


# Observation detail: task ids newly on the watch list (see `watcher.state.source`).
REWATCHED = "rewatched"
# How far before the previous poll the own-task listing starts: clock skew between this host
# and Globus (NTP keeps it to seconds) and slow answers. Each poll lists what ended in it.
OWN_OVERLAP = timedelta(minutes=1)


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
    """Watches the Globus transfer tasks whose ids `watched_ids` returns and, with
    `own_tasks`, every task of the user's that is live or ended since the last poll.

    `live` seeds the own tasks last seen live (from the store, after a restart). The listing's
    window starts `overlap` before the previous poll: a task that ended in between is seen
    twice (the diff finds no change), never missed because two clocks disagree.
    """

    kind = GLOBUS_TASK

    def __init__(self, transfer_client_factory: TransferFactory, watched_ids: Ids, *,
                 chunk: int = 100, name: str = "globus", interval: float = 0.0,
                 backoff_max: float = 600.0, now: Callable[[], datetime] = _utc_now,
                 clock: Callable[[], float] | None = None, own_tasks: bool = False,
                 live: Iterable[str] = (), overlap: timedelta = OWN_OVERLAP) -> None:
        super().__init__(transfer_client_factory, name=name, interval=interval,
                         backoff_max=backoff_max, now=now, clock=clock)
        self.watched_ids = watched_ids
        self.chunk = chunk
        self.own_tasks = own_tasks
        self.overlap = overlap
        self.live: set[str] = set(live)  # own tasks last seen not ended
        self._since: datetime | None = None  # the start of the last good poll
        self._watched: set[str] | None = None  # the watch list at the last good poll
        # Every endpoint a watched task used, for the endpoint probe.
        self.endpoints: set[str] = set()

    def resume(self) -> None:
        """Another instance polled meanwhile: what it put on the watch list and saw end was
        announced by it, so nothing counts as newly watched at the next poll."""
        self._watched = None
        self._since = None

    def _ask(self, at: datetime) -> Observation:
        client = self._factory() if self.own_tasks else None
        ids = set(self.watched_ids())
        docs, requests = [], 0
        if client is not None:
            docs, requests = fetch_own_tasks(client, (self._since or at) - self.overlap)
        listed = {doc.get("task_id") for doc in docs}
        by_id = sorted((ids | self.live) - listed)
        if not by_id and client is None:
            return Observation(self.name, True, at, detail={"watched": 0, "requests": 0})
        if by_id:
            more, asked = fetch_tasks(client or self._factory(), by_id, self.chunk)
            docs, requests = [*docs, *more], requests + asked
        wanted = ids | self.live | listed if client is not None else ids
        subjects = {doc["task_id"]: task_attributes(doc) for doc in docs
                    if doc.get("task_id") in wanted}
        detail = {"watched": len(ids), "own": len(listed - ids), "requests": requests,
                  DETAIL_KEY: "ok"}
        if client is not None:
            self.live = {task for task, attrs in subjects.items()
                         if attrs["status"] not in TERMINAL}
            self._since = at
            # Put on the watch list since the last poll (a grafted stage-in, a stage-out):
            # the listing may have shown it ended before anyone asked for it.
            newly = ids - self._watched if self._watched is not None else set()
            detail[REWATCHED] = sorted(newly & set(subjects))
            self._watched = ids
        self.endpoints |= endpoints_of(subjects)
        return Observation(self.name, True, at, subjects=subjects, detail=detail)


class GlobusEndpointSource(_GlobusPolling):
    """Probes endpoints for "inactive" and "consent required". An endpoint once probed stays
    probed for the life of the process: not asking about it is not its disappearance."""

    kind = GLOBUS_ENDPOINT

    def __init__(self, transfer_client_factory: TransferFactory, endpoint_ids: Ids, *,
                 name: str = "globus-endpoints", interval: float = 300.0,
                 backoff_max: float = 600.0, now: Callable[[], datetime] = _utc_now,
                 clock: Callable[[], float] | None = None,
                 kept_consents: Ids = tuple) -> None:
        super().__init__(transfer_client_factory, name=name, interval=interval,
                         backoff_max=backoff_max, now=now, clock=clock)
        self.endpoint_ids = endpoint_ids
        # The collections the login consented to, kept in the `watcher login` it suggests.
        self.kept_consents = kept_consents
        self._asked: set[str] = set()

    def _ask(self, at: datetime) -> Observation:
        self._asked |= set(self.endpoint_ids())
        if not self._asked:
            return Observation(self.name, True, at, detail={"requests": 0})
        client = self._factory()
        keep = list(self.kept_consents())
        subjects, missing, unreadable, requests = {}, set(), set(), 0
        for endpoint_id in sorted(self._asked):
            (status, attrs), asked = probe_endpoint(client, endpoint_id, keep)
            requests += asked
            if attrs is not None:
                subjects[endpoint_id] = attrs
            else:
                (missing if status == "missing" else unreadable).add(endpoint_id)
        return Observation(self.name, True, at, subjects=subjects, missing_ok=missing,
                           unreadable=unreadable,
                           detail={"requests": requests, DETAIL_KEY: "ok"})
