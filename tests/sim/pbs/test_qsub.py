"""qsub through the shim: ids, attributes recorded as PBS records them, the job's run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.sim.pbs.conftest import job_count
from watcher.sim.pbs.messages import QSUB_USAGE
from watcher.sim.pbs.testing import PbsSim


def test_prints_seq_dot_server_and_records_submit_arguments(sim: PbsSim, tmp_path: Path) -> None:
    result = sim.run("qsub", "-v", "F7T_version=v2.0.0,COUNT=42,ZIP=007", "-N", "hello_pbs",
                     stdin="exit 0\n", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    seq, _, server = result.stdout.strip().partition(".")
    assert seq.isdigit() and server == "pbs-sim" and result.stdout.endswith("\n")
    job = sim.wait_for(result.stdout.strip())
    assert job["Submit_arguments"] == "-v F7T_version=v2.0.0,COUNT=42,ZIP=007 -N hello_pbs"
    variables = job["Variable_List"]
    assert variables["COUNT"] == 42 and variables["ZIP"] == "007"
    assert variables["F7T_version"] == "v2.0.0"
    assert variables["PBS_O_WORKDIR"] == str(tmp_path)
    assert list(variables)[-2:] == ["PBS_O_QUEUE", "PBS_O_HOST"]
    assert job["Output_Path"].endswith(f":{tmp_path}/hello_pbs.o{seq}")


def test_script_file_names_the_job_and_directives_apply(sim: PbsSim, tmp_path: Path) -> None:
    script = tmp_path / "stage.sh"
    script.write_text("#!/bin/bash\n#PBS -l walltime=00:10:00\n#PBS -N from_directive\n"
                      "echo ran\n")
    job_id = sim.run("qsub", str(script), cwd=tmp_path).stdout.strip()
    job = sim.wait_for(job_id)
    assert job["Job_Name"] == "from_directive"
    assert job["Resource_List"]["walltime"] == "00:10:00"
    assert job["Submit_arguments"] == str(script)
    plain = sim.wait_for(sim.qsub("exit 0\n", cwd=tmp_path))
    assert plain["Job_Name"] == "STDIN" and "Submit_arguments" not in plain


def test_numeric_job_name_is_a_json_number(sim: PbsSim, tmp_path: Path) -> None:
    job = sim.wait_for(sim.qsub("exit 0\n", "-N", "123", cwd=tmp_path))
    assert job["Job_Name"] == 123


def test_job_starts_in_home_with_the_environment_the_mom_builds(sim: PbsSim,
                                                                 tmp_path: Path) -> None:
    """OpenPBS src/resmom/start_exec.c: chdir(pw_dir), not the submission directory; the env is
    pbs_environment, then Variable_List, then HOME/LOGNAME/PBS_JOBID/... set by the MoM."""
    script = ('pwd; echo "$PBS_JOBID|$PBS_JOBNAME|$PBS_O_WORKDIR|$PBS_QUEUE|$PBS_O_HOME|'
              '$PBS_O_LOGNAME|$MYVAR|$PBS_ENVIRONMENT|$HOME|$PBS_JOBDIR"; '
              'test -s "$PBS_NODEFILE"; test -d "$TMPDIR"; echo oops >&2\n')
    job_id = sim.qsub(script, "-N", "envjob", "-v", "MYVAR=hello,HOME=/nowhere", cwd=tmp_path)
    assert sim.wait_for(job_id)["Exit_status"] == 0
    seq = job_id.split(".")[0]
    out = (tmp_path / f"envjob.o{seq}").read_text().splitlines()
    home = str(sim.user_home)
    assert out[0] == home
    assert out[1] == (f"{job_id}|envjob|{tmp_path}|workq|{os.environ['HOME']}|"
                      f"{os.environ.get('LOGNAME', '')}|hello|PBS_BATCH|{home}|{home}")
    assert (tmp_path / f"envjob.e{seq}").read_text() == "oops\n"


def test_path_is_the_moms_unless_v_or_big_v_passes_it(sim: PbsSim, tmp_path: Path) -> None:
    """pbs_postinstall writes PATH=/bin:/usr/bin to pbs_environment; the submitter's PATH only
    arrives as PBS_O_PATH, unless -V or -v PATH passes it (start_exec.c bld_env_variables)."""
    env = {**os.environ, "PATH": f"/opt/mine/bin:{os.environ['PATH']}"}
    script = 'echo "$PATH"\n'
    plain = sim.qsub(script, "-N", "p", cwd=tmp_path)
    passed = subprocess.run([str(sim.bin_dir / "qsub"), "-V", "-N", "v"], input=script,
                            capture_output=True, text=True, cwd=tmp_path, env=env,
                            check=True).stdout.strip()
    for job_id in (plain, passed):
        assert sim.wait_for(job_id)["Exit_status"] == 0
    assert (tmp_path / f"p.o{plain.split('.')[0]}").read_text() == f"{sim.bin_dir}:/bin:/usr/bin\n"
    assert (tmp_path / f"v.o{passed.split('.')[0]}").read_text() == env["PATH"] + "\n"


def test_output_paths_and_join(sim: PbsSim, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    job_id = sim.qsub("echo out; echo err >&2\n", "-j", "oe", "-o", "logs/", "-N", "joined",
                      cwd=tmp_path)
    job = sim.wait_for(job_id)
    assert job["Join_Path"] == "oe"
    seq = job_id.split(".")[0]
    assert (tmp_path / "logs" / f"joined.o{seq}").read_text() == "out\nerr\n"
    assert not (tmp_path / f"joined.e{seq}").exists()
    other = sim.qsub("echo x\n", "-o", "mine.out", "-e", str(tmp_path / "mine.err"),
                     cwd=tmp_path)
    sim.wait_for(other)
    assert (tmp_path / "mine.out").read_text() == "x\n"
    assert (tmp_path / "mine.err").read_text() == ""


def test_hold_at_submission(sim: PbsSim, tmp_path: Path) -> None:
    job = sim.wait_for(sim.qsub("exit 0\n", "-h", cwd=tmp_path), state="H")
    assert (job["Hold_Types"], job["substate"]) == ("u", 20)
    assert "etime" not in job


@pytest.mark.parametrize(("args", "message"), [
    (["-k", "x", "-Z"], "qsub: invalid option -- 'Z'\n"),
    (["-W", "depend=afterok"], "qsub: illegal -W value\n"),
    (["-W", "depend=afterokarray:1"], "qsub: illegal -W value\n"),
    (["-W", "depend=afterok:abc"], "qsub: illegal -W value\n"),
    (["-l", "walltime=soon"], "qsub: illegal -l value\n"),
    (["-N"], "qsub: option requires an argument -- 'N'\n"),
])
def test_bad_input_is_a_usage_error_and_queues_nothing(sim: PbsSim, args: list[str],
                                                       message: str) -> None:
    before = job_count(sim)
    result = sim.run("qsub", *args, stdin="exit 0\n")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.endswith(QSUB_USAGE)
    assert result.stderr.replace(str(sim.bin_dir / "qsub"), "qsub").startswith(message)
    assert job_count(sim) == before


def test_unknown_queue_and_missing_script(sim: PbsSim, tmp_path: Path) -> None:
    result = sim.run("qsub", "-q", "nosuch", stdin="exit 0\n")
    assert (result.returncode, result.stderr) == (170, "qsub: Unknown queue\n")
    result = sim.run("qsub", str(tmp_path / "missing.sh"))
    assert result.returncode == 1
    assert result.stderr == "qsub: script file:: No such file or directory\n"


def test_version(sim: PbsSim) -> None:
    assert sim.run("qsub", "--version").stdout == "pbs_version = 23.06.06\n"


def test_dash_v_capital_sends_the_whole_environment(sim: PbsSim,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_EXPORTED", "0042")
    monkeypatch.setenv("PBS_O_IGNORED", "x")
    job = sim.wait_for(sim.qsub('test "$SIM_EXPORTED" = 0042\n', "-V"))
    assert job["Variable_List"]["SIM_EXPORTED"] == "0042"  # leading zero: stays a string
    assert "PBS_O_IGNORED" not in job["Variable_List"]
    assert job["Exit_status"] == 0


def test_an_executable_job_runs_the_program_in_home(sim: PbsSim, tmp_path: Path) -> None:
    """qsub.c process_special_args(): `-- program args` sets executable/argument_list (XML as
    xml_encode_decode.c writes it), Job_Name STDIN; start_exec.c runs it from the home dir."""
    result = sim.run("qsub", "-o", str(tmp_path / "out.txt"), "-j", "oe", "--", "/bin/sh",
                     "-c", "pwd; echo \"$0 <&> $1\"", "sh", "a b", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    job = sim.wait_for(result.stdout.strip())
    assert job["Job_Name"] == "STDIN" and job["Exit_status"] == 0
    assert job["executable"] == "<jsdl-hpcpa:Executable>/bin/sh</jsdl-hpcpa:Executable>"
    assert job["argument_list"] == (
        "<jsdl-hpcpa:Argument>-c</jsdl-hpcpa:Argument>"
        "<jsdl-hpcpa:Argument>pwd; echo &quot;$0 &lt;&amp;&gt; $1&quot;</jsdl-hpcpa:Argument>"
        "<jsdl-hpcpa:Argument>sh</jsdl-hpcpa:Argument>"
        "<jsdl-hpcpa:Argument>a b</jsdl-hpcpa:Argument>")
    assert job["Submit_arguments"].endswith("-- /bin/sh -c pwd; echo \"$0 <&> $1\" sh a b")
    assert (tmp_path / "out.txt").read_text() == f"{sim.user_home}\nsh <&> a b\n"


def test_an_executable_job_with_a_bare_name_and_sleep(sim: PbsSim, tmp_path: Path) -> None:
    job_id = sim.run("qsub", "-N", "nap", "--", "sleep", "0", cwd=tmp_path).stdout.strip()
    assert sim.wait_for(job_id)["Exit_status"] == 0
    assert sim.run("qsub", "--", cwd=tmp_path).returncode == 2  # no program: usage


def test_an_executable_that_does_not_exist_fails_with_254(sim: PbsSim, tmp_path: Path) -> None:
    """start_exec.c: `<program>: <strerror>` on the job's stderr, exit(254)."""
    job_id = sim.run("qsub", "-N", "gone", "--", "/no/such/program", cwd=tmp_path).stdout.strip()
    assert sim.wait_for(job_id)["Exit_status"] == 254
    err = (tmp_path / f"gone.e{job_id.split('.')[0]}").read_text()
    assert err == "/no/such/program: No such file or directory\n"


def test_block_true_waits_and_exits_with_the_jobs_status(sim: PbsSim, tmp_path: Path) -> None:
    """qsub.c block(): the id at once, then exit(Exit_status) when the server sends word."""
    result = sim.run("qsub", "-W", "block=true", stdin="sleep 0.5; exit 7\n", cwd=tmp_path)
    assert result.returncode == 7 and result.stderr == ""
    job = sim.qstat_json("-x", result.stdout.strip())["Jobs"][result.stdout.strip()]
    assert job["job_state"] == "F"  # qsub returned only once the job had ended
    assert sim.run("qsub", "-W", "block=maybe", stdin="true\n", cwd=tmp_path).returncode == 2


def test_block_on_a_job_deleted_while_queued_says_who(sim: PbsSim, tmp_path: Path) -> None:
    """req_delete.c check_block(): "Job to be deleted at request of user@host", exit 3."""
    script = tmp_path / "held.sh"
    script.write_text("true\n")
    waiting = subprocess.Popen([str(sim.bin_dir / "qsub"), "-h", "-W", "block=true",
                                str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path)
    assert waiting.stdout is not None
    job_id = waiting.stdout.readline().strip()
    assert sim.run("qdel", job_id).returncode == 0
    _, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 3
    assert err.startswith(f"qsub: {job_id} Job to be deleted at request of ")
