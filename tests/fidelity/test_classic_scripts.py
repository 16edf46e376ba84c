"""Classic job-chain scripts, run unmodified on the PBS simulator and the Globus emulator.

Each directory under `scripts/` is what a user keeps in a project directory under their home:
a `submit.sh` they run on the login node and the job scripts it submits, written the way
cluster guides and users write them (`-W depend` chains, `qsub -h` + `qrls` from another job,
jobs that qsub their next step, globus-cli `transfer` + `task wait`/`task show` loops,
executable jobs, old `-l nodes=` forms). Nothing in them knows about the simulators.

The end state each test checks is what a PBS Pro cluster with Globus gives: jobs start in
$HOME (OpenPBS src/resmom/start_exec.c), so scripts `cd $PBS_O_WORKDIR`; a dependency that
cannot be met deletes the job (src/server/req_register.c); `-l nodes=<vnode>` becomes
`host=<vnode>` (src/server/node_manager.c cvt_nodespec_to_select); a job for a host nobody has
stays queued with "Can Never Run" (src/scheduler/check.cpp).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from watcher.sim.globus.testing import GlobusEmulator
from watcher.sim.pbs.testing import PbsSim

SCRIPTS = Path(__file__).parent / "scripts"
VNODES = ("pbs-cc1:ncpus=2", "pbs-cc2:ncpus=2", "pbs-cc3:ncpus=2:bigmem=True")
CLI_CLIENT = str(uuid.UUID(int=0xF1D))
VENV_BIN = str(Path(sys.executable).parent)


@dataclass
class Cluster:
    pbs: PbsSim
    globus: GlobusEmulator
    src: str
    scratch: str
    src_dir: Path
    scratch_dir: Path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    with PbsSim(root / "pbs", vnodes=VNODES, tick=0.05, kill_delay=0.5) as pbs, \
            GlobusEmulator(root / "globus") as globus:
        src = globus.add_endpoint(root / "campus", display_name="campus storage")
        scratch = globus.add_endpoint(root / "scratch", display_name="cluster scratch")
        yield Cluster(pbs, globus, src, scratch, root / "campus", root / "scratch")


@dataclass
class Project:
    """One script set copied to ~/<name>, and the login shell's environment."""

    cluster: Cluster
    dir: Path
    env: dict[str, str]

    def submit(self) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["/bin/bash", "submit.sh"], cwd=self.dir, env=self.env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result

    def jobs(self) -> dict[str, dict[str, Any]]:
        """Every job submitted from this project (the login shell or its jobs), by name."""
        records = self.cluster.pbs.qstat_json().get("Jobs", {})
        mine = {jid: job for jid, job in records.items()
                if job["Variable_List"].get("PBS_O_WORKDIR") == str(self.dir)}
        return {f"{job['Job_Name']}#{jid.split('.')[0]}": job for jid, job in mine.items()}

    def settle(self, timeout: float = 60.0) -> dict[str, dict[str, Any]]:
        """Wait until every job has finished or can never run, twice in a row."""
        deadline, calm = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            jobs = self.jobs()
            done = all(j["job_state"] == "F" or (j["job_state"] == "Q" and str(
                j.get("comment", "")).startswith("Can Never Run")) for j in jobs.values())
            calm = calm + 1 if jobs and done else 0
            if calm == 3:
                return jobs
            time.sleep(0.2)
        raise TimeoutError(f"jobs still moving: {[(n, j['job_state']) for n, j in jobs.items()]}")

    def by_name(self, jobs: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
        return [j for key, j in sorted(jobs.items(), key=lambda kv: int(kv[0].split("#")[1]))
                if key.split("#")[0] == name]


def seq_of(jobs: dict[str, dict[str, Any]], name: str) -> str:
    """The sequence number of the first job called `name` (its .o/.e files end with it)."""
    return min((key.split("#")[1] for key in jobs if key.split("#")[0] == name), key=int)


@pytest.fixture
def project(cluster: Cluster, request: pytest.FixtureRequest) -> Project:
    name = request.node.name.removeprefix("test_")  # test_chain runs scripts/chain
    home = cluster.pbs.user_home
    target = home / f"{name}-{uuid.uuid4().hex[:6]}"
    shutil.copytree(SCRIPTS / name, target)
    env = {"HOME": str(home), "USER": os.environ.get("USER", "user"),
           "LOGNAME": os.environ.get("LOGNAME", "user"), "SHELL": "/bin/bash", "LANG": "C.UTF-8",
           "PATH": f"{cluster.pbs.bin_dir}:{VENV_BIN}:/usr/bin:/bin",
           **cluster.globus.env, "GLOBUS_CLI_CLIENT_ID": CLI_CLIENT,
           "GLOBUS_CLI_CLIENT_SECRET": "fidelity-secret",
           "SRC_EP": cluster.src, "SCRATCH_EP": cluster.scratch}
    return Project(cluster, target, env)


def test_chain(project: Project) -> None:
    project.submit()
    jobs = project.settle()
    pre, compute, cleanup = (project.by_name(jobs, n) for n in ("preprocess", "compute",
                                                               "cleanup"))
    rescue = project.by_name(jobs, "rescue")
    assert [j["Exit_status"] for j in pre + compute] == [0, 0]
    assert compute[0]["Resource_List"]["select"] == "1:ncpus=2:mpiprocs=2"
    assert cleanup[0]["substate"] == 92  # afterany: after compute either way
    assert rescue[0]["substate"] == 91 and "Exit_status" not in rescue[0]  # afternotok, unmet
    assert (project.dir / "result.dat").read_text() == "5050\n"
    assert not (project.dir / "input.dat").exists()
    assert (project.dir / f"compute.o{seq_of(jobs, 'compute')}").read_text() == (
        "NCPUS=2 lines=2\n")


def test_held_release(project: Project) -> None:
    project.submit()
    jobs = project.settle()
    setup, analysis = project.by_name(jobs, "setup")[0], project.by_name(jobs, "analysis")[0]
    assert setup["Exit_status"] == 0 and analysis["Exit_status"] == 0
    assert (project.dir / "setup.log").read_text() == "was held\n"
    assert (project.dir / "analysis.log").read_text() == "analysis ran\n"
    assert analysis["stime"] >= setup["stime"]


def test_resubmit(project: Project) -> None:
    project.submit()
    jobs = project.settle()
    steps = project.by_name(jobs, "step")
    assert [j["Exit_status"] for j in steps] == [0, 0, 0]
    log = (project.dir / "steps.log").read_text().splitlines()
    assert [line.split(" as ")[0] for line in log if line.startswith("step")] == [
        "step 1 of 3", "step 2 of 3", "step 3 of 3"]
    assert sum(line.startswith("queued") for line in log) == 2


def test_globus_stage(project: Project) -> None:
    cluster = project.cluster
    (cluster.src_dir / "dataset").mkdir(exist_ok=True)
    for name in ("a.txt", "b.txt"):
        (cluster.src_dir / "dataset" / name).write_text(f"{name} from campus\n")
    project.submit()
    jobs = project.settle(timeout=90)
    stage_in, stage_out = project.by_name(jobs, "stage_in")[0], project.by_name(jobs,
                                                                               "stage_out")[0]
    assert stage_in["Exit_status"] == 0, (project.dir / f"stage_in.o{seq_of(jobs, 'stage_in')}"
                                          ).read_text()
    assert stage_out["Exit_status"] == 0
    task_id = (project.dir / "stage_in.task").read_text().strip()
    task = cluster.globus.task(task_id)
    assert task["status"] == "SUCCEEDED" and task["label"].startswith("stage in ")
    assert (cluster.scratch_dir / "run1/dataset/b.txt").read_text() == "b.txt from campus\n"
    assert (cluster.src_dir / "results/a.txt").read_text() == "a.txt from campus\n"
    assert (project.dir / "stage_out.status").read_text() == "SUCCEEDED\n"


def test_executable(project: Project) -> None:
    project.submit()
    jobs = project.settle()
    nap, listing = project.by_name(jobs, "nap")[0], project.by_name(jobs, "listing")[0]
    assert nap["executable"] == "<jsdl-hpcpa:Executable>/bin/sleep</jsdl-hpcpa:Executable>"
    assert nap["Exit_status"] == 0 and listing["Exit_status"] == 0
    listed = (project.dir / "listing.out").read_text().split()
    assert project.dir.name in listed  # ls ran in $HOME, where the project directory is


def test_nodes(project: Project) -> None:
    project.submit()
    jobs = project.settle()
    placed = {name: (project.dir / f"{name}.nodes").read_text().strip()
              for name in ("byname", "bigmem", "mpi")}
    assert placed["byname"] == "pbs-cc2x1"
    assert placed["bigmem"] == "pbs-cc3x1"
    assert placed["mpi"].count("x2") == 2  # two hosts, two MPI ranks each
    nowhere = project.by_name(jobs, "nowhere")[0]
    assert nowhere["job_state"] == "Q"
    assert nowhere["comment"] == (
        "Can Never Run: Insufficient amount of resource: host (pbs-cc9 != pbs-cc1)")
    server = project.cluster.pbs.server_name
    assert project.cluster.pbs.run("qdel", f"{seq_of(jobs, 'nowhere')}.{server}").returncode == 0


def test_relative_qsub(project: Project) -> None:
    project.submit()
    jobs = project.settle()
    first = project.by_name(jobs, "first")[0]
    assert first["Exit_status"] == 0
    assert [j["Exit_status"] for j in project.by_name(jobs, "second_ok")] == [0]
    assert project.by_name(jobs, "second") == []  # qsub in $HOME found no second.pbs
    err = (project.dir / f"first.e{seq_of(jobs, 'first')}").read_text()
    assert "qsub: script file:: No such file or directory" in err
    assert f"second not submitted from {project.cluster.pbs.user_home}" in err


def test_wait_loop(project: Project) -> None:
    """qstat of a finished job without -x fails (PBSE_HISTJOBID, exit 35), ending the loop."""
    project.submit()
    jobs = project.settle()
    short, report = project.by_name(jobs, "short")[0], project.by_name(jobs, "report")[0]
    assert short["Exit_status"] == 7 and short["substate"] == 93
    assert report["Exit_status"] == 0  # afterany: runs after a failure too
    seq = seq_of(jobs, "short")
    assert (project.dir / "report.log").read_text() == f"{seq} exited 7\n"


def test_block(project: Project) -> None:
    """qsub -W block=true exits with the job's exit status (qsub.c block())."""
    project.submit()  # returns only when both jobs have ended
    assert (project.dir / "pipeline.log").read_text() == "prepare ok\nbroken failed with 4\n"
    assert (project.dir / "prepared").exists()
    jobs = project.settle()
    assert sorted(j["Exit_status"] for j in project.by_name(jobs, "prepare")) == [0, 4]
