"""qselect: one id a line, filters by state, user and name, history only with -x."""

from __future__ import annotations

from watcher.sim.pbs.context import current_user
from watcher.sim.pbs.messages import QSELECT_USAGE
from watcher.sim.pbs.testing import PbsSim


def test_filters(sim: PbsSim) -> None:
    held = sim.qsub("exit 0\n", "-h", "-N", "select_me")
    done = sim.qsub("exit 0\n", "-N", "select_me")
    sim.wait_for(done)
    assert sim.run("qselect", "-N", "select_me").stdout == f"{held}\n"
    assert sim.run("qselect", "-N", "select_me", "-x").stdout == f"{held}\n{done}\n"
    assert sim.run("qselect", "-s", "F", "-N", "select_me").stdout == ""
    assert sim.run("qselect", "-x", "-s", "F", "-N", "select_me").stdout == f"{done}\n"
    assert held in sim.run("qselect", "-u", current_user(), "-s", "H").stdout.split()
    result = sim.run("qselect", "-u", "nobody_else")
    assert (result.returncode, result.stdout) == (0, "")
    sim.run("qdel", held)


def test_usage(sim: PbsSim) -> None:
    result = sim.run("qselect", "extra")
    assert (result.returncode, result.stderr) == (2, QSELECT_USAGE)
