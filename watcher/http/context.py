"""What the routes work with: the settings, the store, the rule files, the token checks, and
the service's write lock when the face runs inside `watcher run`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from watcher.config import Settings
from watcher.http.tokens import Tokens
from watcher.store.db import Store

T = TypeVar("T")


@dataclass
class HttpContext:
    """One face's view of one watcher. Store work runs in worker threads: a slow query never
    holds up the polls that share the event loop."""

    settings: Settings
    store: Store
    rule_paths: Sequence[Path]
    tokens: Tokens
    # The service's lock (`Service.db_lock`): this process's writes take turns with its own.
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Client-supplied submission keys being submitted now (a repeat waits for the first).
    submitting: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(session, *args)` in a read-only session, in a worker thread."""
        def run() -> T:
            with self.store.session(write=False) as session:
                return fn(session, *args)

        return await asyncio.to_thread(run)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(session, *args)` in one committed transaction, under the service's lock."""
        def run() -> T:
            with self.store.session() as session:
                return fn(session, *args)

        async with self.db_lock:
            return await asyncio.to_thread(run)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """A blocking call with its own sessions (a submission, a cancel) in a worker thread."""
        return await asyncio.to_thread(fn, *args)
