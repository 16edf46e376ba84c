"""`recover_workflow` and `stage_out_workflow` against the PBS simulator, the Globus emulator
and a real store: what each submits, that running one again submits nothing twice, and that
a workflow that is not there (or has no stage-out) is a permanent failure."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from tests.globus._world import Globus, emu, globus
from tests.service.conftest import sim
from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, Outcome, Services
from watcher.globus.clients import build_clients
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store, open_store
from watcher.store.models import Workflow, WorkflowLog
from watcher.workflows import record
from watcher.workflows.spec import WorkflowSpec

FIXTURES = (emu, globus, sim)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCRIPT = "#!/bin/sh\nsleep 600\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'watcher.db'}")
    yield opened
    opened.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "compute.sh").write_text(SCRIPT)
    return run


def _workflow(store: Store, globus: Globus, workdir: Path, *, stage_out: bool = True) -> str:
    (globus.src_dir / "in").mkdir(exist_ok=True)
    (globus.src_dir / "in" / "data.txt").write_text("x\n")
    spec = WorkflowSpec.model_validate({
        "name": "wa", "script": "compute.sh",
        "stage_in": [{"from": f"{globus.src}:/in/", "to": f"{globus.dst}:/run/in/"}],
        "stage_out": [{"from": f"{globus.dst}:/run/in/", "to": f"{globus.src}:/back/"}]
        if stage_out else []})
    with store.session() as session:
        return record.create(session, spec, str(workdir), NOW).id


def _run(name: str, store: Store | None, sim: PbsSim, globus: Globus, key: str,
         **params: Any) -> Outcome:
    transfer = build_clients(globus.settings).transfer
    ctx = ActionContext(sim.commands, key, "rule", NOW, Services(store=store, transfer=transfer))
    action = ACTIONS[name]
    return asyncio.run(action.execute(ctx, action.params.model_validate(params)))


def _live_jobs(sim: PbsSim) -> list[str]:
    jobs = sim.qstat_json().get("Jobs", {})
    return sorted(job_id for job_id, job in jobs.items() if job["job_state"] not in "FX")


def _workflow_row(store: Store, workflow_id: str) -> tuple[Workflow, list[str]]:
    with store.session(write=False) as session:
        wf = session.get(Workflow, workflow_id)
        lines = list(session.exec(select(WorkflowLog.text).where(
            WorkflowLog.workflow_id == workflow_id)))
    assert wf is not None
    return wf, lines


def test_recover_submits_what_is_missing_once_and_again_after_a_lost_queue(
        store: Store, sim: PbsSim, globus: Globus, workdir: Path) -> None:
    wf = _workflow(store, globus, workdir)
    first = _run("recover_workflow", store, sim, globus, "r|1", workflow=wf)
    assert first.ok and first.facts["submitted"], first.detail
    [job] = _live_jobs(sim)
    tasks = len(globus.emu.tasks())
    assert tasks == 1  # the stage-in
    again = _run("recover_workflow", store, sim, globus, "r|2", workflow=wf)
    assert again.ok and again.detail == f"{wf}: nothing to recover"
    assert _live_jobs(sim) == [job]
    assert sim.wipe() == 1  # the queue is lost
    lost = _run("recover_workflow", store, sim, globus, "r|3", workflow=wf)
    assert lost.ok and lost.facts["submitted"], lost.detail
    [new_job] = _live_jobs(sim)
    assert new_job != job and len(globus.emu.tasks()) == tasks  # never a second stage-in


def test_recover_of_an_unknown_workflow_is_permanent(store: Store, sim: PbsSim,
                                                     globus: Globus) -> None:
    outcome = _run("recover_workflow", store, sim, globus, "r|1", workflow="wf-000000")
    assert not outcome.ok and not outcome.retryable and "wf-000000" in outcome.detail
    assert _live_jobs(sim) == []


def test_stage_out_starts_the_specs_transfer_once_and_records_it(
        store: Store, sim: PbsSim, globus: Globus, workdir: Path) -> None:
    wf = _workflow(store, globus, workdir)
    first = _run("stage_out_workflow", store, sim, globus, "s|1", workflow=wf)
    assert first.ok, first.detail
    task_id = first.facts["task_id"]
    task = globus.emu.task(task_id)
    assert task["label"] == f"watcher {wf} stage-out"
    assert (task["source_endpoint_id"], task["destination_endpoint_id"]) == (globus.dst,
                                                                             globus.src)
    row, lines = _workflow_row(store, wf)
    assert row.stage_out_task == task_id and f"stage-out started: Globus task {task_id}" in lines
    again = _run("stage_out_workflow", store, sim, globus, "s|1", workflow=wf)  # a retry
    assert again.ok and again.facts["task_id"] == task_id
    assert "earlier attempt" in again.detail
    assert [t["task_id"] for t in globus.emu.tasks()] == [task_id]
    assert _workflow_row(store, wf)[1].count(f"stage-out started: Globus task {task_id}") == 1


@pytest.mark.parametrize(("workflow", "says"), [
    ("wf-000000", "no workflow wf-000000"),
    (None, "has no stage-out"),
    ("{{ workflow.id }}", "not about a workflow"),
])
def test_stage_out_without_a_stage_out_to_start_is_permanent(
        store: Store, sim: PbsSim, globus: Globus, workdir: Path, workflow: str | None,
        says: str) -> None:
    target = workflow or _workflow(store, globus, workdir, stage_out=False)
    outcome = _run("stage_out_workflow", store, sim, globus, "s|1", workflow=target)
    assert not outcome.ok and not outcome.retryable and says in outcome.detail
    assert globus.emu.tasks() == []
