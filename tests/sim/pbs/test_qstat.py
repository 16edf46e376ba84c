"""qstat through the shim: ids in both forms, exit codes per id, table and -f text."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from watcher.sim.pbs.messages import QSTAT_USAGE
from watcher.sim.pbs.testing import PbsSim


@pytest.fixture(scope="module")
def done(sim: PbsSim, tmp_path_factory: pytest.TempPathFactory) -> str:
    job_id = sim.qsub("exit 0\n", "-N", "finished", cwd=tmp_path_factory.mktemp("w"))
    sim.wait_for(job_id)
    return job_id


@pytest.fixture(scope="module")
def held(sim: PbsSim) -> str:
    return sim.qsub("exit 0\n", "-h", "-N", "waiting")


@pytest.mark.parametrize("flags", [["-xf"], ["-fx"], ["-f", "-x"], ["-x", "-f"]])
def test_combined_flags_and_short_ids(sim: PbsSim, done: str, flags: list[str]) -> None:
    seq = done.split(".")[0]
    for given in (seq, done):
        result = sim.run("qstat", *flags, "-F", "json", given)
        assert result.returncode == 0
        assert list(json.loads(result.stdout)["Jobs"]) == [done]


def test_unknown_ids_go_to_stderr_while_found_jobs_are_printed(sim: PbsSim, held: str) -> None:
    result = sim.run("qstat", "-f", "-F", "json", "999998", held, "999999.pbs-sim")
    assert result.returncode == 153
    assert result.stderr == ("qstat: Unknown Job Id 999998.pbs-sim\n"
                             "qstat: Unknown Job Id 999999.pbs-sim\n")
    assert list(json.loads(result.stdout)["Jobs"]) == [held]


def test_no_jobs_key_when_nothing_matched(sim: PbsSim) -> None:
    result = sim.run("qstat", "-f", "-F", "json", "999997")
    document = json.loads(result.stdout)
    assert "Jobs" not in document and set(document) == {"timestamp", "pbs_version",
                                                        "pbs_server"}


def test_finished_job_needs_x(sim: PbsSim, done: str, held: str) -> None:
    result = sim.run("qstat", "-f", "-F", "json", done, held)
    assert result.returncode == 35
    assert result.stderr == (f"qstat: {done} Job has finished, use -x or -H to obtain "
                             "historical job information\n")
    assert list(json.loads(result.stdout)["Jobs"]) == [held]
    everything = json.loads(sim.run("qstat", "-f", "-F", "json").stdout)["Jobs"]
    assert done not in everything and held in everything
    assert done in json.loads(sim.run("qstat", "-fx", "-F", "json").stdout)["Jobs"]


def test_plain_table(sim: PbsSim, done: str, held: str) -> None:
    result = sim.run("qstat", held)
    lines = result.stdout.splitlines()
    assert lines[0] == "Job id            Name             User              Time Use S Queue"
    assert lines[1] == "----------------  ---------------- ----------------  -------- - -----"
    assert lines[2].startswith(f"{held:<17} waiting          ")
    assert lines[2].split()[-2:] == ["H", "workq"]
    assert sim.run("qstat").stdout.count(done) == 0
    assert done in sim.run("qstat", "-x").stdout
    # Like qstat.c, the header comes with the first operand's answer only.
    assert not sim.run("qstat", "999996", held).stdout.startswith("Job id")


def test_full_text_format(sim: PbsSim, held: str) -> None:
    text = sim.run("qstat", "-f", held).stdout
    assert text.startswith(f"Job Id: {held}\n    Job_Name = waiting\n")
    assert "    Hold_Types = u\n" in text and "    Resource_List.ncpus = 1\n" in text


@pytest.mark.parametrize(("args", "error"), [(["-F", "json"], "qstat: conflicting options.\n"),
                                             (["-k"], None), (["-F", "xml", "-f"], "")])
def test_usage_errors(sim: PbsSim, args: list[str], error: str | None) -> None:
    result = sim.run("qstat", *args)
    assert result.returncode == 2 and result.stderr.endswith(QSTAT_USAGE)
    if error is not None:
        assert result.stderr == error + QSTAT_USAGE


def test_unsupported_display_options_say_so(sim: PbsSim) -> None:
    result = sim.run("qstat", "-a")
    assert (result.returncode, result.stderr) == (
        2, "qstat: option -a is not supported by the PBS simulator\n")


def test_queue_destination_operand(sim: PbsSim, held: str, tmp_path: Path) -> None:
    assert held in sim.run("qstat", "workq").stdout
    assert sim.run("qstat", "@pbs-sim").returncode == 0


def test_values_real_qstat_prints_as_invalid_json_are_reproduced(sim: PbsSim) -> None:
    # A lone backslash comes with -V (one copy of the environment); -v doubles backslashes.
    env = {**os.environ, "WINPATH": "C:\\dir"}
    job_id = subprocess.run([str(sim.bin_dir / "qsub"), "-h", "-V", "-v", "SHA=0000000,ZIP=007"],
                            input="exit 0\n", capture_output=True, text=True, env=env,
                            cwd=sim.workdir, check=True).stdout.strip()
    text = sim.run("qstat", "-f", "-F", "json", job_id).stdout
    assert '"WINPATH":"C:\\dir"' in text and '"SHA":0000000' in text and '"ZIP":"007"' in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    variables = sim.qstat_json(job_id)["Jobs"][job_id]["Variable_List"]  # the helper copes
    assert (variables["WINPATH"], variables["SHA"], variables["ZIP"]) == (
        "C:\\dir", "0000000", "007")
    sim.run("qdel", job_id)
