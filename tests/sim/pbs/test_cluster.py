"""A cluster with named vnodes, driven by the command lines classic job scripts use.

What real PBS does here comes from the OpenPBS source: `-l nodes=` conversion from
src/server/node_manager.c cvt_nodespec_to_select() (a property naming a vnode becomes
`host=`), placement and the "Can Never Run" comment from src/scheduler (check.cpp
match_resource(), constant.h), exec_host/exec_vnode and the S record from the accounting
log format in ../shared/fixtures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.sim.pbs import control
from watcher.sim.pbs.paths import SimPaths
from watcher.sim.pbs.testing import PbsSim

VNODES = ("pbs-cc1:ncpus=2", "pbs-cc2:ncpus=2:bigmem=True", "pbs-cc3:ncpus=1")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PbsSim]:
    with PbsSim(tmp_path_factory.mktemp("pbs"), vnodes=VNODES, tick=0.05,
                kill_delay=0.5) as sim:
        yield sim


def started_on(sim: PbsSim, job_id: str) -> str:
    """exec_vnode from the job's S accounting record."""
    for line in sim.accounting_lines():
        _, rtype, jid, message = line.split(";", 3)
        if rtype == "S" and jid == job_id:
            return next(f.split("=", 1)[1] for f in message.split() if f.startswith("exec_vnode="))
    raise AssertionError(f"no S record for {job_id}")


@pytest.mark.parametrize(("nodes", "select", "vnode"), [
    ("pbs-cc2", "1:ncpus=1:host=pbs-cc2", "(pbs-cc2:ncpus=1)"),
    ("1:pbs-cc3", "1:ncpus=1:host=pbs-cc3", "(pbs-cc3:ncpus=1)"),
    ("pbs-cc1+pbs-cc3", "1:ncpus=1:host=pbs-cc1+1:ncpus=1:host=pbs-cc3",
     "(pbs-cc1:ncpus=1)+(pbs-cc3:ncpus=1)"),
    ("1:bigmem", "1:ncpus=1:bigmem=True", "(pbs-cc2:ncpus=1)"),
    ("2:ppn=1", "2:ncpus=1", "(pbs-cc1:ncpus=1)+(pbs-cc2:ncpus=1)"),
    ("1:ppn=2", "1:ncpus=2:mpiprocs=2", "(pbs-cc1:ncpus=2)"),
])
def test_every_nodes_form_runs_where_pbs_would(cluster: PbsSim, tmp_path: Path, nodes: str,
                                                select: str, vnode: str) -> None:
    script = tmp_path / "job.sh"
    script.write_text(f"#!/bin/bash\n#PBS -l nodes={nodes}\ncat $PBS_NODEFILE\n")
    result = cluster.run("qsub", str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    job = cluster.wait_for(result.stdout.strip())
    assert job["Resource_List"]["select"] == select
    assert job["Resource_List"]["place"] == "scatter"
    assert job["exec_vnode"] == vnode == started_on(cluster, result.stdout.strip())
    hosts = [v.strip("()").split(":")[0] for v in vnode.split("+")]
    per_chunk = 2 if "ppn=2" in nodes else 1
    seq = result.stdout.split(".")[0]
    listed = (tmp_path / f"job.sh.o{seq}").read_text().split()
    assert listed == [h for h in hosts for _ in range(per_chunk)]


@pytest.mark.parametrize("spec", ["0", "2:foo=1", "1:ppn=0", "1:"])
def test_a_bad_nodes_spec_is_refused_by_the_server(cluster: PbsSim, tmp_path: Path,
                                                   spec: str) -> None:
    """resc_attr.c set_node_ct() -> validate_nodespec(): PBSE_BADNODESPEC (15089), no usage."""
    result = cluster.run("qsub", "-l", f"nodes={spec}", stdin="true\n", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        15089 % 256, "", "qsub: node(s) specification error\n")


def test_host_and_vnode_selects_land_on_the_named_host(cluster: PbsSim, tmp_path: Path) -> None:
    on_two = cluster.qsub("exit 0\n", "-l", "select=1:ncpus=1:host=pbs-cc2", cwd=tmp_path)
    on_three = cluster.qsub("exit 0\n", "-l", "select=1:vnode=pbs-cc3", cwd=tmp_path)
    assert cluster.wait_for(on_two)["exec_host"] == "pbs-cc2/0"
    assert cluster.wait_for(on_three)["exec_vnode"] == "(pbs-cc3:ncpus=1)"
    assert started_on(cluster, on_two) == "(pbs-cc2:ncpus=1)"


def test_place_scatter_and_pack_are_honoured(cluster: PbsSim, tmp_path: Path) -> None:
    scatter = cluster.qsub("exit 0\n", "-l", "select=2:ncpus=1", "-l", "place=scatter",
                           cwd=tmp_path)
    pack = cluster.qsub("exit 0\n", "-l", "select=2:ncpus=1", "-l", "place=pack", cwd=tmp_path)
    assert cluster.wait_for(scatter)["exec_host"] == "pbs-cc1/0+pbs-cc2/0"
    assert cluster.wait_for(pack)["exec_host"] == "pbs-cc1/0+pbs-cc1/1"


def test_a_job_that_can_never_run_stays_queued_with_the_schedulers_comment(
        cluster: PbsSim, tmp_path: Path) -> None:
    missing = cluster.qsub("exit 0\n", "-l", "select=1:host=pbs-cc9", cwd=tmp_path)
    too_big = cluster.qsub("exit 0\n", "-l", "select=1:ncpus=4:host=pbs-cc1", cwd=tmp_path)
    gpu = cluster.qsub("exit 0\n", "-l", "select=1:ncpus=1:ngpus=1", cwd=tmp_path)
    after = cluster.qsub("exit 0\n", cwd=tmp_path)
    assert cluster.wait_for(after)["Exit_status"] == 0  # the queue goes on around them
    assert cluster.wait_for(missing, state="Q")["comment"] == (
        "Can Never Run: Insufficient amount of resource: host (pbs-cc9 != pbs-cc1)")
    assert cluster.wait_for(too_big, state="Q")["comment"] == (
        "Can Never Run: Insufficient amount of resource: ncpus (R: 4 A: 2 T: 2)")
    assert cluster.wait_for(gpu, state="Q")["comment"] == (
        "Can Never Run: Insufficient amount of resource: ngpus (R: 1 A: 0 T: 0)")
    for job_id in (missing, too_big, gpu):
        assert cluster.run("qdel", job_id).returncode == 0


def test_start_with_a_relative_home_writes_shims_that_work_from_anywhere(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    home = tmp_path / "pbs"
    try:
        started = subprocess.run(
            [sys.executable, "-m", "watcher", "sim", "pbs", "start", "--home", "pbs",
             "--vnode", "pbs-cc1:ncpus=2", "--vnode", "gpu01:ncpus=4:ngpus=2"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert started.returncode == 0, started.stderr
        assert f"commands in {home}/bin" in started.stdout
        job = subprocess.run([str(home / "bin" / "qsub"), "-l", "nodes=gpu01", "--",
                              "/bin/true"], cwd=tmp_path / "elsewhere", capture_output=True,
                             text=True, timeout=60)
        assert job.returncode == 0, job.stderr
        status = json.loads(subprocess.run(
            [sys.executable, "-m", "watcher", "sim", "pbs", "status", "--home", str(home),
             "--json"], capture_output=True, text=True, timeout=60).stdout)
        assert [v["name"] for v in status["vnodes"]] == ["pbs-cc1", "gpu01"]
        qstat = subprocess.run([str(home / "bin" / "qstat"), "-fx", job.stdout.strip()],
                               cwd="/", capture_output=True, text=True, timeout=60)
        assert qstat.returncode == 0 and "Resource_List.select = 1:ncpus=1:host=gpu01" in (
            qstat.stdout)
    finally:
        control.stop(home)
        control.kill_runners(SimPaths(home))
