"""A watcher service wired to the PBS simulator and a store in tmp_path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from watcher.config import PbsSettings, Settings, StoreSettings
from watcher.service.service import Service
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import open_store


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PbsSim]:
    with PbsSim(tmp_path / "pbs", nodes=4) as sim:
        yield sim


@pytest.fixture
def settings(tmp_path: Path, sim: PbsSim) -> Settings:
    return Settings(pbs=PbsSettings(bin_dir=sim.bin_dir, poll_interval=0.2,
                                    min_poll_interval=0, down_after=2),
                    store=StoreSettings(url=f"sqlite:///{tmp_path / 'watcher.db'}"))


@pytest.fixture
def make_service(tmp_path: Path, settings: Settings) -> Iterator[Callable[..., Service]]:
    stores = []

    def make(rules: str | dict[str, str]) -> Service:
        rules_dir = tmp_path / "rules"
        rules_dir.mkdir(exist_ok=True)
        files = {"rules.yaml": rules} if isinstance(rules, str) else rules
        for name, text in files.items():
            (rules_dir / name).write_text(text)
        store = open_store(settings.store.url)
        stores.append(store)
        service = Service(settings, store, [rules_dir])
        # Polled once, as a watcher that runs before the test's jobs are submitted: the very
        # first PBS poll is the baseline (jobs already finished are adopted without events),
        # and a job that ends before it has been read would otherwise fire nothing.
        asyncio.run(service.cycle())
        return service

    yield make
    for store in stores:
        store.close()


def cycle_until(service: Service, check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Run watcher cycles until `check()` holds (the way `watcher run` would, faster)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asyncio.run(service.cycle())
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")
