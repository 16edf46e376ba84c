"""`watcher run` stopped: SIGTERM or Ctrl-C lets the running action finish and be recorded, in
one INFO line and exit 0; a second signal stops at once; after a SIGKILL the restart takes over
what the dead process had claimed at once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from tests.service._crash_harness import Run, WatcherRig, seen
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
    stage = Stage(sim, store, tmp_path)
    try:
        run, victim = stage.until_qdel_runs()
        stage.rig.stop(run)
    finally:
        stage.rig.close()
    assert run.proc.returncode == 0, run.tail()
    with store.session(write=False) as session:
        [intent] = session.exec(select(Intent)).all()
    assert (intent.status, intent.lease_owner) == ("done", None)
    assert records(sim.accounting_lines(), "D") == [victim]


class Stage:
    """`watcher run` with the slow qdel rule, up to the moment its qdel has started."""

    def __init__(self, sim: PbsSim, store: Store, tmp_path: Path) -> None:
        self.sim, self.store = sim, store
        qdel, self.started = slow_qdel(sim, tmp_path)
        rules = tmp_path / "rules"
        rules.mkdir()
        (rules / "rules.yaml").write_text(RULE)
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({
            "pbs": {"bin_dir": str(sim.bin_dir), "commands": {"qdel": str(qdel)},
                    "min_poll_interval": 0},
            "store": {"url": str(store.engine.url)}}))
        self.rig = WatcherRig(tmp_path, config, rules, store, {})
        self.tmp_path = tmp_path

    def until_qdel_runs(self) -> tuple[Run, str]:
        victim = self.sim.qsub("exit 0\n", "-N", "victim", "-h", cwd=self.tmp_path)
        run = self.rig.start()
        wait_for(lambda: seen(self.store, victim), run)
        self.sim.qsub("exit 0\n", "-N", "partner", "-v", f"VICTIM={victim}", cwd=self.tmp_path)
        wait_for(self.started.exists, run)
        return run, victim


def wait_for(check: Callable[[], bool], run: Run, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline and run.proc.poll() is None, run.tail()
        time.sleep(0.02)


def log_lines(run: Run) -> list[str]:
    return run.log.read_text().splitlines()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_is_one_info_line_and_exit_0(sig: signal.Signals, sim: PbsSim, store: Store,
                                            tmp_path: Path) -> None:
    stage = Stage(sim, store, tmp_path)
    try:
        run, _ = stage.until_qdel_runs()
        run.proc.send_signal(sig)
        run.proc.wait(30)
    finally:
        stage.rig.close()
    assert run.proc.returncode == 0, run.tail()
    lines = log_lines(run)
    stops = [line for line in lines if " stopping on " in line]
    assert len(stops) == 1 and f"INFO watcher.service.scheduler: stopping on {sig.name}: " \
        "waiting for 1 running action to finish (a second signal stops at once)" in stops[0]
    assert not [line for line in lines if "ERROR" in line or "Traceback" in line], run.tail()
    assert [line for line in lines if "done: " in line]  # the qdel finished before the exit


def test_a_second_signal_stops_at_once(sim: PbsSim, store: Store, tmp_path: Path) -> None:
    stage = Stage(sim, store, tmp_path)
    try:
        run, _ = stage.until_qdel_runs()
        run.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping on SIGTERM" in run.log.read_text(), run)
        asked = time.monotonic()
        run.proc.send_signal(signal.SIGTERM)
        run.proc.wait(30)
        took = time.monotonic() - asked
    finally:
        stage.rig.close()
    assert run.proc.returncode == 128 + signal.SIGTERM, run.tail()
    assert took < 1.5  # the qdel had two seconds to go
    assert "WARNING watcher.service.scheduler: second SIGTERM: stopping at once" \
        in run.log.read_text()


def test_after_a_sigkill_the_restart_takes_over_at_once(sim: PbsSim, store: Store,
                                                         tmp_path: Path) -> None:
    """The killed watcher's qdel (its child) finishes on its own; the restart waits for that
    child, then runs the claimed qdel again at once (PBS: already finished, so done), not after
    the lease. Nothing ends the lease by hand."""
    stage = Stage(sim, store, tmp_path)
    try:
        run, victim = stage.until_qdel_runs()
        os.kill(run.pid, signal.SIGKILL)
        run.proc.wait()
        restarted_at = time.monotonic()
        again = stage.rig.start()
        wait_for(lambda: _status(store) == "done", again)
        took = time.monotonic() - restarted_at
        stage.rig.stop(again)
    finally:
        stage.rig.close()
    assert took < 10, again.tail()  # the orphan qdel's 2 s, the restart, the second qdel
    assert "took over 1 action(s) claimed by" in again.log.read_text()
    assert records(sim.accounting_lines(), "D") == [victim]


def _status(store: Store) -> str:
    with store.session(write=False) as session:
        return session.exec(select(Intent.status)).one()
