"""Starting, stopping (outage) and wiping a simulator; many commands at once."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from watcher.sim.pbs import control
from watcher.sim.pbs.paths import COMMANDS
from watcher.sim.pbs.testing import PbsSim


def test_stopped_server_fails_every_command_like_an_unreachable_one(own_sim: PbsSim) -> None:
    job_id = own_sim.qsub("exit 0\n", "-h")
    own_sim.stop()
    args = {"qsub": [], "qstat": [], "qdel": [job_id], "qhold": [job_id], "qrls": [job_id],
            "qselect": [], "qsig": [job_id], "qrerun": [job_id]}
    for command in COMMANDS:
        result = own_sim.run(command, *args[command], stdin="exit 0\n")
        assert result.stderr == (f"Connection refused\n{command}: cannot connect to server "
                                 "pbs-sim (errno=111)\n"), command
        assert result.returncode == (255 if command == "qstat" else 111), command
    result = own_sim.run("qstat", "-f", "-F", "json")
    assert result.returncode == 255 and "Jobs" not in json.loads(result.stdout)
    own_sim.start()
    assert job_id in own_sim.qstat_json()["Jobs"]  # nothing lost


def test_start_is_idempotent_and_status_counts(own_sim: PbsSim) -> None:
    again = control.start(own_sim.home)
    assert again.already_running and again.process is None
    own_sim.qsub("exit 0\n", "-h")
    info = control.status(own_sim.home)
    assert info["running"] and info["nodes"] == 2 and info["jobs"] == {"H": 1}


def test_wipe_loses_every_job_and_kills_running_ones(own_sim: PbsSim) -> None:
    running = own_sim.qsub("sleep 30\n")
    held = own_sim.qsub("exit 0\n", "-h")
    job = own_sim.wait_for(running, state="R")
    while "session_id" not in job:
        job = own_sim.wait_for(running, state="R")
    assert own_sim.wipe() == 2
    result = own_sim.run("qstat", "-x", running, held)
    assert result.returncode == 153 and result.stdout == ""
    deadline = time.monotonic() + 5
    while _alive(job["session_id"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(job["session_id"])
    after = own_sim.qsub("exit 0\n")
    assert int(after.split(".")[0]) > int(held.split(".")[0])  # the sequence goes on
    assert own_sim.wait_for(after)["substate"] == 92


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_twenty_parallel_qsub_and_qstat_lose_nothing(own_sim: PbsSim) -> None:
    def submit(i: int) -> str:
        return own_sim.qsub("exit 0\n", "-h", "-N", f"par{i}")

    def query(_: int) -> int:
        result = own_sim.run("qstat", "-f", "-F", "json", "-x")
        json.loads(result.stdout)
        return result.returncode

    with ThreadPoolExecutor(max_workers=40) as pool:
        submitted = pool.map(submit, range(20))
        queried = pool.map(query, range(20))
        ids, codes = list(submitted), list(queried)
    assert len(set(ids)) == 20 and set(codes) == {0}
    jobs = own_sim.qstat_json()["Jobs"]
    assert set(ids) <= set(jobs)
    assert sorted(jobs[i]["Job_Name"] for i in ids) == sorted(f"par{i}" for i in range(20))


def test_server_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with PbsSim(tmp_path / "pbs", server_name="cluster.example.org") as sim:
        job_id = sim.qsub("exit 0\n")
        assert job_id.endswith(".cluster.example.org")
        assert sim.run("qstat", "-x", job_id.split(".")[0] + ".cluster").returncode == 0
        assert sim.qstat_json()["pbs_server"] == "cluster.example.org"
