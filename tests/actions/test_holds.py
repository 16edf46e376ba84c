"""`qrls`, `qhold` and `qdel` against the PBS simulator: what PBS does, and idempotence
(deleting a finished or unknown job is success; releasing an unknown one is permanent)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, Outcome
from watcher.sim.pbs.testing import PbsSim


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PbsSim]:
    with PbsSim(tmp_path / "pbs", nodes=1) as running:
        yield running


def _run(sim: PbsSim, name: str, **params: Any) -> Outcome:
    action = ACTIONS[name]
    ctx = ActionContext(sim.commands, f"rule|{name}", "rule", datetime.now(UTC))
    return asyncio.run(action.execute(ctx, action.params.model_validate(params)))


def test_qrls_releases_a_user_hold_and_the_job_runs(sim: PbsSim):
    job = sim.qsub("true\n", "-h")
    assert sim.qstat_json(job)["Jobs"][job]["job_state"] == "H"
    assert _run(sim, "qrls", job=job).ok
    assert sim.wait_for(job)["Exit_status"] == 0


def test_qhold_holds_a_queued_job(sim: PbsSim):
    sim.qsub("sleep 30\n")  # the only node is busy: the next job queues
    job = sim.qsub("true\n")
    assert _run(sim, "qhold", job=job).ok
    attrs = sim.qstat_json(job)["Jobs"][job]
    assert (attrs["job_state"], attrs["Hold_Types"]) == ("H", "u")


def test_qdel_deletes_and_a_finished_job_counts_as_deleted(sim: PbsSim):
    job = sim.qsub("sleep 30\n")
    assert _run(sim, "qdel", job=job).ok
    sim.wait_for(job)
    assert _run(sim, "qdel", job=job).ok  # already gone: the effect holds, nothing to retry


@pytest.mark.parametrize("name", ["qrls", "qhold"])
def test_an_unknown_job_is_permanent(sim: PbsSim, name: str):
    outcome = _run(sim, name, job="999.pbs-sim")
    assert not outcome.ok and not outcome.retryable


def test_qdel_of_an_unknown_job_is_done(sim: PbsSim):
    """A job that aged out of the server's history is unknown: deleted all the same."""
    assert _run(sim, "qdel", job="999.pbs-sim").ok
