"""`watcher run` stopped with SIGTERM: an action that is running finishes and is recorded."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from sqlmodel import select

from tests.service._crash_harness import WatcherRig, seen
from tests.service._crash_workload import records
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store
from watcher.store.models import Intent

RULE = """
rules:
  - name: delete-victim
    when: {pbs_job: {name: partner, exit_status: 0}}
    do: [{qdel: {job: "{{ job.variables.VICTIM }}"}}]
"""


def slow_qdel(sim: PbsSim, tmp_path: Path) -> tuple[Path, Path]:
    """A qdel that says when it started and takes two seconds: a stop lands in the middle."""
    started = tmp_path / "qdel-started"
    script = tmp_path / "slow-qdel"
    script.write_text(f'#!/bin/sh\ntouch "{started}"\nsleep 2\nexec "{sim.bin_dir}/qdel" "$@"\n')
    script.chmod(0o755)
    return script, started


def test_sigterm_lets_the_running_action_finish_and_be_recorded(
        sim: PbsSim, store: Store, tmp_path: Path) -> None:
    qdel, started = slow_qdel(sim, tmp_path)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rules.yaml").write_text(RULE)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "pbs": {"bin_dir": str(sim.bin_dir), "commands": {"qdel": str(qdel)},
                "min_poll_interval": 0},
        "store": {"url": str(store.engine.url)}}))
    rig = WatcherRig(tmp_path, config, rules, store, {})
    try:
        victim = sim.qsub("exit 0\n", "-N", "victim", "-h", cwd=tmp_path)
        run = rig.start()
        deadline = time.monotonic() + 30
        while not seen(store, victim):  # the first look is taken: the partner's end is news
            assert time.monotonic() < deadline and run.proc.poll() is None, run.tail()
            time.sleep(0.02)
        sim.qsub("exit 0\n", "-N", "partner", "-v", f"VICTIM={victim}", cwd=tmp_path)
        while not started.exists():
            assert time.monotonic() < deadline and run.proc.poll() is None, run.tail()
            time.sleep(0.02)
        rig.stop(run)
    finally:
        rig.close()
    assert run.proc.returncode == 0, run.tail()
    with store.session(write=False) as session:
        [intent] = session.exec(select(Intent)).all()
    assert (intent.status, intent.lease_owner) == ("done", None)
    assert records(sim.accounting_lines(), "D") == [victim]
