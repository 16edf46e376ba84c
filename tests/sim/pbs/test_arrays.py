"""Job arrays through the shims, as a user and a job script see them (qsub -J, qstat -t/-J,
qselect -J/-T, qdel/qhold/qrls on arrays and subjobs, PBS_ARRAY_* and output names)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from watcher.sim.pbs.arrays import RangeError, parse_ranges, parse_submitted, range_text
from watcher.sim.pbs.testing import PbsSim

SHOW = 'echo "index=$PBS_ARRAY_INDEX array=$PBS_ARRAY_ID job=$PBS_JOBID"\n'


def subjob(array_id: str, index: int) -> str:
    return array_id.replace("[]", f"[{index}]")


def test_ranges_read_and_print_like_pbs() -> None:
    assert [list(r.indices) for r in parse_ranges("1-5:2,8")] == [[1, 3, 5], [8]]
    assert list(parse_submitted("1-10:3").indices) == [1, 4, 7, 10]
    for bad in ("5", "5-1", "1-5:0", "a-b", "1-5,7-9", ""):
        with pytest.raises(RangeError):
            parse_submitted(bad)
    assert range_text([1, 2, 3, 7], 1) == "1-3,7"
    assert range_text([1, 5, 9, 11], 2) == "1,5,9-11:2"
    assert range_text([], 1) == ""


def test_an_array_runs_every_index_with_its_environment_and_files(sim: PbsSim,
                                                                  tmp_path: Path) -> None:
    array_id = sim.qsub(SHOW, "-J", "1-5:2", "-N", "sweep", cwd=tmp_path)
    seq = array_id.split("[")[0]
    assert array_id == f"{seq}[].pbs-sim"
    done = sim.wait_for(array_id)
    assert (done["job_state"], done["substate"], done["Exit_status"]) == ("F", 92, 0)
    assert done["array"] == "True"
    assert done["array_indices_submitted"] == "1-5:2"
    assert done["array_indices_remaining"] == "-"
    assert done["array_state_count"] == "Queued:0 Running:0 Exiting:0 Expired:3"
    assert done["Output_Path"].endswith(f"/sweep.o{seq}.^array_index^")
    for index in (1, 3, 5):
        text = (tmp_path / f"sweep.o{seq}.{index}").read_text()
        assert text == f"index={index} array={array_id} job={subjob(array_id, index)}\n"
        record = sim.qstat_json(subjob(array_id, index))["Jobs"][subjob(array_id, index)]
        assert (record["job_state"], record["substate"]) == ("X", 92)
        assert (record["array_id"], record["array_index"]) == (array_id, index)
        assert "array" not in record and "array_state_count" not in record
    lines = "\n".join(sim.accounting_lines())
    assert f";Q;{array_id};" in lines
    for index in (1, 3, 5):
        assert f";S;{subjob(array_id, index)};" in lines
        assert f";E;{subjob(array_id, index)};" in lines
    assert f";E;{array_id};" in lines


def test_listings_show_the_parent_and_with_t_the_subjobs(sim: PbsSim) -> None:
    array_id = sim.qsub("exit 0\n", "-J", "1-3", "-h")
    seq = array_id.split("[")[0]
    rows = sim.run("qstat").stdout
    assert f"{seq}[].pbs-sim" in rows and f"{seq}[1]" not in rows
    held = sim.run("qstat", "-t", array_id).stdout.splitlines()[2:]
    assert [r.split()[0] for r in held] == [f"{seq}[].pbs-sim"] + [
        f"{seq}[{i}].pbs-sim" for i in (1, 2, 3)]
    assert [r.split()[4] for r in held] == ["H", "Q", "Q", "Q"]
    only_subjobs = sim.run("qstat", "-J", "-t").stdout
    assert f"{seq}[2].pbs-sim" in only_subjobs and f"{seq}[].pbs-sim" not in only_subjobs
    assert f"{seq}[].pbs-sim" in sim.run("qstat", "-J").stdout
    assert array_id in sim.run("qselect", "-J").stdout.split()
    assert array_id in sim.run("qselect").stdout.split()
    assert subjob(array_id, 2) not in sim.run("qselect").stdout.split()
    t_listing = sim.run("qselect", "-T").stdout.split()
    assert subjob(array_id, 2) in t_listing and array_id not in t_listing
    unknown = sim.run("qstat", seq)
    assert (unknown.returncode, unknown.stderr) == (153, f"qstat: Unknown Job Id {seq}.pbs-sim\n")
    record = sim.qstat_json(subjob(array_id, 2))["Jobs"][subjob(array_id, 2)]
    assert record["job_state"] == "Q"
    sim.run("qdel", array_id)


def test_the_parent_begins_counts_and_fails_when_a_subjob_fails(sim: PbsSim) -> None:
    script = 'sleep 0.6\n[ "$PBS_ARRAY_INDEX" = 2 ] && exit 3\nexit 0\n'
    array_id = sim.qsub(script, "-J", "1-3%1")
    running = sim.wait_for(array_id, state="B")
    assert running["max_run_subjobs"] == 1
    assert running["comment"].startswith("Job Array Began at ")
    assert running["array_state_count"] in ("Queued:2 Running:1 Exiting:0 Expired:0",
                                            "Queued:2 Running:0 Exiting:1 Expired:0")
    seen_running = set()
    while sim.qstat_json(array_id)["Jobs"][array_id]["job_state"] != "F":
        listing = sim.run("qstat", "-t", array_id).stdout
        seen_running.add(sum(1 for row in listing.splitlines() if " R workq" in row))
        time.sleep(0.05)
    assert max(seen_running) <= 1  # %1: one subjob at a time
    done = sim.qstat_json(array_id)["Jobs"][array_id]
    assert done["substate"] == 93
    # update_sj_parent(): the last subjob to end sets it; [3] ran last and exited 0
    assert done["Exit_status"] == 0
    failed = sim.qstat_json(subjob(array_id, 2))["Jobs"][subjob(array_id, 2)]
    assert (failed["job_state"], failed["substate"], failed["Exit_status"]) == ("X", 93, 3)


def test_walltime_kill_of_the_last_subjob_makes_the_parent_status_2(sim: PbsSim) -> None:
    array_id = sim.qsub('[ "$PBS_ARRAY_INDEX" = 2 ] && sleep 30\nexit 0\n', "-J", "1-2",
                        "-l", "walltime=00:00:01")
    done = sim.wait_for(array_id, timeout=30)
    assert (done["Exit_status"], done["substate"]) == (2, 93)
    killed = sim.qstat_json(subjob(array_id, 2))["Jobs"][subjob(array_id, 2)]
    assert killed["Exit_status"] == -29


def test_qdel_of_a_subjob_and_of_the_array(sim: PbsSim) -> None:
    array_id = sim.qsub("sleep 30\n", "-J", "1-4", "-h")
    one = subjob(array_id, 2)
    assert sim.run("qdel", one).returncode == 0
    record = sim.qstat_json(one)["Jobs"][one]
    assert (record["job_state"], record["substate"]) == ("X", 91)
    parent = sim.qstat_json(array_id)["Jobs"][array_id]
    assert parent["array_indices_remaining"] == "1,3-4"
    again = sim.run("qdel", one)
    assert (again.returncode, again.stderr) == (
        55, f"qdel: Request invalid for finished array subjob {one}\n")
    assert sim.run("qrls", array_id).returncode == 0
    first = subjob(array_id, 1)
    deadline = time.monotonic() + 20
    while sim.qstat_json(first)["Jobs"][first]["substate"] != 42:  # its session is known
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sim.run("qdel", array_id).returncode == 0
    done = sim.wait_for(array_id)
    assert done["substate"] == 91
    states = {i: sim.qstat_json(subjob(array_id, i))["Jobs"][subjob(array_id, i)]
              for i in (1, 3, 4)}
    assert all(s["job_state"] == "X" and s["substate"] == 91 for s in states.values())
    assert states[1]["Exit_status"] == 271  # it was running: SIGTERM
    assert f";D;{array_id};requestor=" in "\n".join(sim.accounting_lines())


def test_holds_are_for_the_array_not_its_subjobs(sim: PbsSim) -> None:
    array_id = sim.qsub("exit 0\n", "-J", "1-2")
    sim.wait_for(array_id)
    held = sim.qsub("exit 0\n", "-J", "1-2", "-h")
    refused = sim.run("qhold", subjob(held, 1))
    assert (refused.returncode, refused.stderr) == (
        156, f"qhold: Invalid request {subjob(held, 1)}\n")
    assert sim.run("qrls", subjob(held, 1)).returncode == 156
    time.sleep(0.3)
    assert sim.qstat_json(held)["Jobs"][held]["job_state"] == "H"
    assert sim.qstat_json(subjob(held, 1))["Jobs"][subjob(held, 1)]["job_state"] == "Q"
    assert sim.run("qrls", held).returncode == 0
    assert sim.wait_for(held)["substate"] == 92


def test_a_job_may_depend_on_a_whole_array(sim: PbsSim) -> None:
    array_id = sim.qsub("exit 0\n", "-J", "1-2", "-h")
    after = sim.qsub("exit 0\n", "-W", f"depend=afterok:{array_id}")
    waiting = sim.qstat_json(after)["Jobs"][after]
    assert (waiting["job_state"], waiting["substate"]) == ("H", 22)
    assert sim.run("qrls", array_id).returncode == 0
    assert sim.wait_for(after)["substate"] == 92


@pytest.mark.parametrize(("args", "code", "message"), [
    (["-J", "5"], 166, "qsub: Illegal attribute or resource value\n"),
    (["-J", "3-1"], 166, "qsub: Illegal attribute or resource value\n"),
    (["-J", "1-10001"], 3, "qsub: Array job exceeds server or queue size limit\n"),
])
def test_bad_ranges_are_refused_by_the_server(sim: PbsSim, args: list[str], code: int,
                                              message: str) -> None:
    result = sim.run("qsub", *args, stdin="exit 0\n", cwd=sim.workdir)
    assert (result.returncode, result.stdout, result.stderr) == (code, "", message)


def test_a_non_rerunable_array_is_a_usage_error(sim: PbsSim) -> None:
    result = sim.run("qsub", "-r", "n", "-J", "1-2", stdin="exit 0\n", cwd=sim.workdir)
    assert result.returncode == 2
    assert result.stderr.startswith("qsub:  cannot submit non-rerunable Array Job\nusage: qsub")


def test_a_job_script_submits_an_array_and_waits_for_it_with_qstat(sim: PbsSim,
                                                                   tmp_path: Path) -> None:
    """The classic driver script: qsub -J, then poll qstat until the array is gone."""
    driver = tmp_path / "driver.sh"
    driver.write_text(
        "#!/bin/bash\n"
        "set -e\n"
        'id=$(printf \'echo "part $PBS_ARRAY_INDEX" > part.$PBS_ARRAY_INDEX\\n\' '
        "| qsub -J 1-4 -N parts)\n"
        'while qstat "$id" >/dev/null 2>&1; do sleep 0.1; done\n'
        'qstat -x -f -F json "$id" | grep -q \'"job_state":"F"\'\n'
        "echo \"$id\"\n")
    driver.chmod(0o755)
    env = {**os.environ, "PATH": f"{sim.bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run([str(driver)], capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("[].pbs-sim")
    home = sim.user_home
    assert sorted((home / f"part.{i}").read_text() for i in range(1, 5)) == [
        f"part {i}\n" for i in range(1, 5)]


def test_a_directive_makes_an_array_and_ranges_name_subjobs(sim: PbsSim) -> None:
    array_id = sim.qsub("#PBS -J 1-5\n#PBS -h\nexit 0\n")
    assert array_id.endswith("[].pbs-sim")
    seq = array_id.split("[")[0]
    listed = sim.run("qstat", f"{seq}[2-4]").stdout
    assert [row.split()[0] for row in listed.splitlines()[2:]] == [
        f"{seq}[{i}].pbs-sim" for i in (2, 3, 4)]
    assert sim.run("qdel", f"{seq}[1,3-5:2]").returncode == 0
    parent = sim.qstat_json(array_id)["Jobs"][array_id]
    assert parent["array_indices_remaining"] == "2,4"
    missing = sim.run("qstat", f"{seq}[9]")
    assert (missing.returncode, missing.stderr) == (
        153, f"qstat: Unknown Job Id {seq}[9].pbs-sim\n")
    sim.run("qdel", array_id)


def test_copy_jobs_refuses_an_array_template(sim: PbsSim) -> None:
    array_id = sim.qsub("exit 0\n", "-J", "1-2", "-h")
    with pytest.raises(ValueError, match="is a job array"):
        sim.copy_jobs(array_id.split("[")[0], ["bob"])
    sim.run("qdel", array_id)
