"""A simulator per test module (jobs accumulate, tests use their own ids); a private one when
a test stops, wipes or needs an idle cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.sim.pbs.testing import PbsSim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PbsSim]:
    with PbsSim(tmp_path_factory.mktemp("pbs"), nodes=4, kill_delay=0.5, tick=0.05) as running:
        yield running


@pytest.fixture
def own_sim(tmp_path: Path) -> Iterator[PbsSim]:
    with PbsSim(tmp_path / "pbs", nodes=2, kill_delay=0.5, tick=0.05) as running:
        yield running


def job_count(sim: PbsSim) -> int:
    return len(sim.run("qselect", "-x").stdout.split())
