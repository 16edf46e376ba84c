"""An array step of a graph workflow: it succeeds only when every subjob exited 0. PBS sets
an array's Exit_status from the last subjob to end (OpenPBS update_sj_parent(), since 2021),
so a subjob that fails first and a last one that exits 0 leave the parent at exit 0; its
substate (93) is what says that some subjob failed."""

from __future__ import annotations

from tests.workflows._graph import graph, scripts, status, submit, third_endpoint
from tests.workflows._staging import FIXTURES, Staging

emu, globus, sim, make_service, sink, settings, world = FIXTURES

FIRST_FAILS = """#!/bin/sh
cd "$PBS_O_WORKDIR"
[ "$PBS_ARRAY_INDEX" = 1 ] && exit 3
sleep 1
cat in/data.txt b/more.txt > mid.txt
"""


def test_an_array_whose_first_subjob_failed_fails_though_the_last_exited_0(
        world: Staging) -> None:
    ep3, _ = third_endpoint(world)
    scripts(world)
    (world.run_dir / "first-fails.sh").write_text(FIRST_FAILS)
    (world.run_dir / "first-fails.sh").chmod(0o755)
    wf = submit(world, graph(world, ep3, steps={
        "prep": {"job": "first-fails.sh", "qsub": ["-J", "1-3"]}}))
    world.cycle_until(lambda: world.workflow(wf).step in ("failed", "done"), timeout=60)
    assert status(world, wf)["prep"] == "failed"
    assert status(world, wf)["sim"] == "skipped"
