"""`watcher sim pbs start|status|wipe|stop` (watcher/cli/sim/pbs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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


def test_named_vnodes_and_a_user_home_from_the_command_line(tmp_path: Path) -> None:
    home, user_home = tmp_path / "pbs", tmp_path / "users" / "alice"
    user_home.mkdir(parents=True)
    runner = CliRunner()
    try:
        result = runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home), "--vnode",
                                     "pbs-cc1:ncpus=4", "--vnode", "pbs-cc2:ncpus=8:bigmem=True",
                                     "--user-home", str(user_home)])
        assert result.exit_code == 0, result.output
        status = json.loads(runner.invoke(cli, ["sim", "pbs", "status", "--home", str(home),
                                                "--json"]).output)
        assert status["vnodes"] == [
            {"name": "pbs-cc1", "host": "pbs-cc1", "ncpus": 4, "resources": {}},
            {"name": "pbs-cc2", "host": "pbs-cc2", "ncpus": 8, "resources": {"bigmem": "True"}}]
        assert status["user_home"] == str(user_home)
        table = runner.invoke(cli, ["sim", "pbs", "status", "--home", str(home)]).output
        assert "pbs-cc1 (4 cpus), pbs-cc2 (8 cpus)" in table
    finally:
        control.stop(home)
        control.kill_runners(SimPaths(home))


@pytest.mark.parametrize("spec", ["bad name", "n1:ncpus=x", "n1:mem"])
def test_a_bad_vnode_spec_is_refused_before_anything_starts(tmp_path: Path, spec: str) -> None:
    result = CliRunner().invoke(cli, ["sim", "pbs", "start", "--home", str(tmp_path / "pbs"),
                                      "--vnode", spec])
    assert result.exit_code == 2 and "--vnode" in result.output and repr(spec) in result.output
    assert not (tmp_path / "pbs").exists()


def test_nodes_after_vnodes_replaces_them_and_both_at_once_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "pbs"
    runner = CliRunner()
    try:
        both = runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home), "--nodes", "2",
                                   "--vnode", "pbs-cc1"])
        assert both.exit_code == 2 and "not both" in both.output
        assert runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home), "--vnode",
                                   "pbs-cc1:ncpus=2"]).exit_code == 0
        control.stop(home)
        assert runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home)]).exit_code == 0
        assert [v["name"] for v in control.status(home)["vnodes"]] == ["pbs-cc1"]  # kept
        assert runner.invoke(cli, ["sim", "pbs", "start", "--home", str(home), "--nodes",
                                   "3"]).exit_code == 0
        assert [v["name"] for v in control.status(home)["vnodes"]] == [
            "node01", "node02", "node03"]
    finally:
        control.stop(home)
        control.kill_runners(SimPaths(home))
