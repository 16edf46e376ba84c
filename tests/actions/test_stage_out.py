"""`stage_out`: the `transfer` action with stage-out defaults, bound from a rule's templates and
run against the Globus emulator: a job's output directory goes out, and again after a rerun
only what changed is copied."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import globus_sdk
import pytest

from watcher.actions import ACTIONS, transfer
from watcher.actions.base import ActionContext, Services
from watcher.actions.stage_out import Params
from watcher.pbs.commands import PbsCommands
from watcher.rules.model import ActionCall
from watcher.sim.globus.testing import GlobusEmulator
from watcher.store.db import open_store

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_one_implementation_other_defaults() -> None:
    assert ACTIONS["stage_out"].execute is transfer.execute
    params = Params(source_endpoint="a", destination_endpoint="b", source_path="/out",
                    destination_path="/arch")
    assert params.pairs() == [("/out", "/arch", True)]
    assert (params.sync_level, params.preserve_timestamp, params.verify_checksum) == \
        ("mtime", True, True)
    # `transfer` keeps Globus's plain defaults.
    plain = transfer.Params.model_validate(params.model_dump(
        include={"source_endpoint", "destination_endpoint", "source_path", "destination_path"}))
    assert (plain.recursive, plain.sync_level, plain.preserve_timestamp) == (False, None, False)


def _bind(context: dict[str, Any], **params: Any) -> Params:
    call = ActionCall(type="stage_out", params=params)
    bound = call.bind(context, "do[0].stage_out")
    assert isinstance(bound, Params)
    # The engine stores params as JSON and the runner validates them again.
    return Params.model_validate(bound.model_dump(mode="json"))


@pytest.fixture
def emu(tmp_path: Path):
    with GlobusEmulator(tmp_path / "globus") as running:
        yield running


def test_a_rule_stages_a_jobs_output_out_and_a_rerun_copies_only_changes(
        emu: GlobusEmulator, tmp_path: Path) -> None:
    workdir = tmp_path / "cluster" / "home" / "run1"
    (workdir / "out" / "frames").mkdir(parents=True)
    for n in range(3):
        (workdir / "out" / "frames" / f"f{n}.dat").write_bytes(bytes([n]) * 4096)
    (workdir / "out" / "summary.txt").write_text("v1\n")
    (tmp_path / "archive").mkdir()
    cluster = emu.add_endpoint(tmp_path / "cluster")
    archive = emu.add_endpoint(tmp_path / "archive")
    tc = globus_sdk.TransferClient(authorizer=emu.authorizer(emu.issue_tokens("alice")),
                                   base_url=emu.transfer_url)
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    context = {"rule": "stage-out-sims", "job": {"id": "12.srv", "name": "sim-1",
                                                  "workdir": "/home/run1"},
               "vars": {"cluster": cluster, "archive": archive}}
    params = _bind(context, source_endpoint="{{ vars.cluster }}",
                   destination_endpoint="{{ vars.archive }}",
                   source_path="{{ job.workdir }}/out/", destination_path="/{{ job.name }}/")

    def stage(key: str) -> dict[str, Any]:
        ctx = ActionContext(PbsCommands(), key, "stage-out-sims", NOW,
                            Services(store=store, transfer=tc))
        outcome = asyncio.run(ACTIONS["stage_out"].execute(ctx, params))
        assert outcome.ok, outcome.detail
        return emu.wait_task(outcome.facts["task_id"], "SUCCEEDED")

    try:
        first = stage("stage-out-sims|12.srv|1|0")
        assert first["label"] == "watcher stage-out stage-out-sims"
        assert (tmp_path / "archive" / "sim-1" / "frames" / "f2.dat").read_bytes() == \
            bytes([2]) * 4096
        assert os.stat(tmp_path / "archive" / "sim-1" / "summary.txt").st_mtime == \
            os.stat(workdir / "out" / "summary.txt").st_mtime
        # The job ran again and rewrote one file: a new firing, a new intent.
        (workdir / "out" / "summary.txt").write_text("v2, longer\n")
        later = os.stat(workdir / "out" / "summary.txt").st_mtime + 60
        os.utime(workdir / "out" / "summary.txt", (later, later))
        second = stage("stage-out-sims|12.srv|2|0")
    finally:
        store.close()
    assert (first["files_transferred"], second["files_transferred"]) == (4, 1)
    assert second["files_skipped"] == 3
    assert (tmp_path / "archive" / "sim-1" / "summary.txt").read_text() == "v2, longer\n"
