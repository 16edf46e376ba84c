"""Crash safety of graph workflows on the real process: `watcher run` is SIGKILLed at
failpoints (a claimed intent, an effect the ledger does not know yet, a qsub or a transfer
the workflow's record does not know yet, a mail being sent) and restarted, until two graph
workflows are done; then every step's effect is counted at the simulators: no job step
submitted twice, no transfer started twice, no mail twice, nothing lost (the files arrived).

Each workflow: two inputs from two endpoints, a job after both, a job after it that exits 75
once (`retries: {exit_codes: [75]}`, so the service itself submits it again), and an output
transfer after that. The harness is the one of test_crash.py (_crash_harness.WatcherRig).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.globus import _world
from tests.globus._world import Globus
from tests.service._crash_harness import WatcherRig
from tests.service.test_crash import sim, sink
from watcher.cli import cli
from watcher.mail.sink import SmtpSink
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store
from watcher.store.models import Workflow

emu, globus = _world.emu, _world.globus
__all__ = ["emu", "globus", "sim", "sink"]

WORKFLOWS = 2
RATES = ("after-claim=0.2,after-execute=0.2,mid-email=0.3,workflow-after-qsub=0.5,"
         "workflow-after-transfer=0.3")
PREP = '#!/bin/sh\ncd "$PBS_O_WORKDIR"\ncat in/data.txt b/more.txt > mid.txt\n'
SIM = """#!/bin/sh
cd "$PBS_O_WORKDIR"
if [ ! -e tried ]; then touch tried; exit 75; fi
mkdir -p out
tr a-z A-Z < mid.txt > out/result.txt
"""


@pytest.mark.slow
def test_graph_steps_survive_kills_without_a_step_twice_or_one_lost(
        tmp_path: Path, sim: PbsSim, sink: SmtpSink, globus: Globus, store: Store,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ep3_root = tmp_path / "ep3"
    (ep3_root / "b").mkdir(parents=True)
    (ep3_root / "b" / "more.txt").write_text("and more\n")
    ep3 = globus.emu.add_endpoint(ep3_root, display_name="third")
    (globus.src_dir / "in").mkdir(parents=True)
    (globus.src_dir / "in" / "data.txt").write_text("hello graph\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "pbs": {"bin_dir": str(sim.bin_dir), "poll_interval": 0.3, "min_poll_interval": 0,
                "down_after": 20},
        "smtp": sink.settings().model_dump(mode="json", by_alias=True),
        "globus": globus.settings.model_dump(mode="json") | {"endpoint_interval": 30},
        "store": {"url": str(store.engine.url)}, "user_email": "ops@example.org"}))
    ids = [_submit(tmp_path, i, globus, ep3, config, monkeypatch) for i in range(WORKFLOWS)]
    rig = WatcherRig(tmp_path, config, rules, store, globus.emu.env)
    try:
        kills: Counter[str] = Counter()
        started = time.monotonic()
        while not _all_done(store, ids, sink) and time.monotonic() - started < 100:
            run = rig.start(RATES, seed=len(rig.runs))
            hit = rig.wait(run, lambda: _all_done(store, ids, sink), timeout=20)
            if hit:
                kills[hit] += 1
        settled: list[float] = []

        def settled_a_while() -> bool:
            if not settled and _all_done(store, ids, sink):
                settled.append(time.monotonic())
            return bool(settled) and time.monotonic() - settled[0] > 3

        run = rig.start()
        assert rig.wait(run, settled_a_while, timeout=90) is None, run.tail()
    finally:
        rig.close()
    jobs = sim.qstat_json().get("Jobs", {})
    per_step = Counter((job["Variable_List"].get("WATCHER_WORKFLOW"),
                        job["Variable_List"].get("WATCHER_STEP")) for job in jobs.values())
    labels = Counter(task.get("label") for task in globus.emu.tasks())
    mails = Counter(str(m.message["Message-ID"]) for m in sink.messages)
    with capsys.disabled():
        print(f"\ngraph crash test: {sum(kills.values())} kills ({dict(kills)}), "
              f"{len(rig.runs) - 1} restarts, {len(jobs)} jobs, {len(labels)} transfers, "
              f"{len(sink.messages)} mails")
    assert sum(kills.values()) >= 3, kills
    for wf in ids:
        assert (per_step[(wf, "prep")], per_step[(wf, "sim")]) == (1, 2), per_step
        for step in ("in-a", "in-b", "out"):
            assert labels[f"watcher {wf} {step}"] == 1, labels
    assert sorted(mails.values()) == [1] * WORKFLOWS
    for i in range(WORKFLOWS):
        assert (globus.src_dir / f"results-{i}" / "result.txt").read_text() == \
            "HELLO GRAPH\nAND MORE\n"


def _submit(tmp_path: Path, i: int, globus: Globus, ep3: str, config: Path,
            monkeypatch: pytest.MonkeyPatch) -> str:
    run_dir = tmp_path / "dst" / f"run-{i}"
    run_dir.mkdir(parents=True)
    for name, text in (("prep.sh", PREP), ("sim.sh", SIM)):
        (run_dir / name).write_text(text)
        (run_dir / name).chmod(0o755)
    src, dst = globus.src, globus.dst
    spec = {"name": f"crash-{i}", "steps": {
        "in-a": {"transfer": {"from": f"{src}:/in/", "to": f"{dst}:/run-{i}/in/"}},
        "in-b": {"transfer": {"from": f"{ep3}:/b/", "to": f"{dst}:/run-{i}/b/"}},
        "prep": {"job": "prep.sh", "after": ["in-a", "in-b"]},
        "sim": {"job": "sim.sh", "after": ["prep"], "retries": {"exit_codes": [75]}},
        "out": {"transfer": {"from": f"{dst}:/run-{i}/out/", "to": f"{src}:/results-{i}/"},
                "after": ["sim"]}}}
    (run_dir / "wf.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.chdir(run_dir)
    result = CliRunner().invoke(cli, ["stage", "submit", "--json", "-f", "wf.yaml",
                                      "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["workflow"])


def _all_done(store: Store, ids: list[str], sink: SmtpSink) -> bool:
    with store.session(write=False) as session:
        steps = [session.get(Workflow, wf) for wf in ids]
    return all(wf is not None and wf.step == "done" for wf in steps) and \
        len(sink.messages) >= len(ids)
