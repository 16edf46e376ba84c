"""`watcher sim pbs start|status|wipe|stop` (watcher/cli/sim/pbs.py)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from watcher.cli import cli
from watcher.sim.pbs import control
from watcher.sim.pbs.paths import COMMANDS, SimPaths


def test_start_status_wipe_stop(tmp_path: Path) -> None:
    home = tmp_path / "pbs"
    runner = CliRunner()
    try:
        result = runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home), "--nodes", "3",
                                     "--server-name", "mini"])
        assert result.exit_code == 0, result.output
        assert "started" in result.output
        assert sorted(p.name for p in (home / "bin").iterdir()) == sorted(COMMANDS)
        shim = (home / "bin" / "qstat").read_text()
        assert shim.startswith("#!") and " -IS\n" in shim.splitlines()[0] + "\n"
        again = runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home)])
        assert "already running" in again.output
        status = json.loads(runner.invoke(cli, ["sim", "pbs", "status", "--home", str(home),
                                                "--json"]).output)
        assert (status["running"], status["nodes"], status["server_name"]) == (True, 3, "mini")
        assert "mini" in runner.invoke(cli, ["sim", "pbs", "status", "--home", str(home)]).output
        wiped = runner.invoke(cli, ["sim", "pbs", "wipe", "--home", str(home)])
        assert wiped.output == "PBS simulator wiped: 0 job(s) lost\n"
        stopped = runner.invoke(cli, ["sim", "pbs", "stop", "--home", str(home)])
        assert stopped.output == "PBS simulator stopped\n"
        assert runner.invoke(cli, ["sim", "pbs", "stop", "--home", str(home)]).output == (
            "PBS simulator was not running\n")
    finally:
        control.stop(home)
        control.kill_runners(SimPaths(home))


def test_renaming_a_simulator_with_jobs_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "pbs"
    try:
        control.start(home)
        paths = SimPaths(home)
        assert control.status(home)["server_name"] == "pbs-sim"
        from watcher.sim.pbs.testing import PbsSim

        PbsSim(home).qsub("exit 0\n", "-h")
        result = CliRunner().invoke(cli, ["sim", "pbs", "start", "--home", str(home),
                                          "--server-name", "other"])
        assert result.exit_code == 1 and "wipe it or use another home" in result.output
    finally:
        control.stop(home)
        control.kill_runners(paths)
