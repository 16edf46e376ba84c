"""The simulator against every real PBS sample in `samples/` (a byte copy of
/work/shared/fixtures/pbs): for an equivalent simulated job, every key of the real record must
exist with the same JSON type (values differ), and the text must have qstat's layout.

Keys the simulator deliberately never produces are listed below with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from watcher.sim.pbs.context import current_user
from watcher.sim.pbs.testing import PbsSim

SAMPLES = Path(__file__).parent / "samples"
ORIGINALS = Path("/work/shared/fixtures/pbs")

OMITTED = {
    "eligible_time": "needs the server's eligible_time_enable, off by default (and in the sim)",
    "estimated": "backfill start estimates of a real scheduler; the sim schedules FIFO",
    "exec_host2": "MetaCentrum-specific attribute",
    "credential_id": "MetaCentrum Kerberos credentials",
    "credential_validity": "MetaCentrum Kerberos credentials",
}
OMITTED_RESOURCES = {  # site-defined custom resources, set by site hooks
    "allow_account_check_failure", "allow_negative_allocation", "award_category", "award_type",
    "backfill_factor", "backfill_max", "base_score", "bkc_definition", "burn_ratio",
    "current_allocation", "enable_backfill", "enable_fifo", "enable_wfp", "fifo_factor",
    "filesystems", "flare_fs", "hbm_mode", "home_fs", "ni_resource", "overburn",
    "project_priority", "route_backfill", "score_boost", "snc_mode", "total_allocation",
    "total_cpus", "wfp_factor", "soft_walltime",
}
OMITTED_VARIABLES = {  # added by site hooks or site qsub wrappers, not by PBS itself
    "PBS_O_INTERACTIVE_AUTH_METHOD", "PBS_JOBID_SHORT", "PBS_HOOK_RESOURCES", "PBS_NODEFILE",
    "PBS_RESC_MEM", "TORQUE_RESC_MEM", "PBS_NUM_PPN", "PBS_NCPUS", "TORQUE_RESC_PROC",
    "PBS_NGPUS", "PBS_RESC_TOTAL_MEM", "TORQUE_RESC_TOTAL_MEM", "PBS_RESC_TOTAL_PROCS",
    "TORQUE_RESC_TOTAL_PROCS", "PBS_NUM_NODES", "PBS_RESC_TOTAL_WALLTIME",
    "TORQUE_RESC_TOTAL_WALLTIME",
}
# Which simulated job stands for each real record: (state, substate) -> equivalent.
EQUIVALENT = {("R", 42): "running", ("R", 41): "mpi_running", ("F", 92): "finished",
              ("F", 93): "walltime", ("H", 20): "held"}
QSTAT_SAMPLES = [
    "firecrest-v2__ssh_qstat_command.stdout.json",
    "firecrest-v2__ssh_qstat_allusers_command.stdout.json",
    "flow123d-swrap__testing_integrated_test_all.py__qstat_xf_F_json.json",
    "pbs_monitor__qstat_x_f_F_json-output__EXCERPT_first_job.json",
    "pbs_monitor__qstat_x_f_F_json-output__EXCERPT_user_held_job.json",
]
WRAPPERS = ["firecrest-v2__ssh_qstat_command.fixture.json",
            "firecrest-v2__ssh_qstat_allusers_command.fixture.json",
            "firecrest-v2__ssh_qsub_command.fixture.json",
            "firecrest-v2__ssh_qdel_command.fixture.json"]
TEXT_SAMPLES = ["README.md", "cli_error_outputs_from_public_issues.txt",
                "accounting_log_samples.txt"]
LINE = re.compile(r'^\{$|^\}$|^(?: {4})+(?:"[^"\n]*":(?:\{|[^{\n].*?)|\}),?$')


def test_every_sample_is_used_and_identical_to_the_shared_fixtures() -> None:
    names = {p.name for p in SAMPLES.iterdir()}
    assert names == set(QSTAT_SAMPLES + WRAPPERS + TEXT_SAMPLES)
    if ORIGINALS.is_dir():
        for name in names:
            assert (SAMPLES / name).read_bytes() == (ORIGINALS / name).read_bytes(), name


@pytest.fixture(scope="module")
def equivalents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PbsSim, dict]]:
    """One simulated job per real record kind, submitted with the options the real one had."""
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as env, \
            PbsSim(tmp_path_factory.mktemp("pbs"), nodes=4, kill_delay=0.5) as sim:
        env.setenv("MAIL", "/var/spool/mail/user")
        env.setenv("LANG", "en_US.UTF-8")
        env.setenv("LOGNAME", current_user())  # qsub copies these when they are set,
        env.setenv("SHELL", "/bin/bash")  # as a login shell does; CI's environment lacks them
        common = ["-v", "F7T_version=v2.0.0", "-l", "nodes=1:ppn=1", "-l", "walltime=00:05:00",
                  "-e", "hello.err", "-N", "hello_pbs"]
        finished = sim.qsub("exit 0\n", *common, cwd=work)
        running = sim.qsub("sleep 60\n", *common, cwd=work)
        mpi = sim.qsub("sleep 60\n", "-S", "/bin/bash", "-j", "oe", "-l", "walltime=00:01:00",
                       "-l", "select=2:ncpus=1:mem=4gb:mpiprocs=2:ompthreads=1",
                       "-l", "place=scatter", "-N", "swrap_01", cwd=work)
        site = ["-A", "TwinBlood", "-M", "someone@example.org", "-W", "umask=22", "-r", "n",
                "-k", "doe"]
        walltime = sim.qsub("sleep 30\n", *site, "-l", "select=1", "-l", "walltime=1",
                            "-W", f"depend=afterany:{finished}", "-N", "plinko", cwd=work)
        sim.qsub("exit 0\n", "-W", f"depend=afterany:{walltime}", cwd=work)
        held = sim.qsub("exit 0\n", *site, "-j", "oe", "-l", "select=10", "-l", "walltime=4:0:0",
                        "-l", "place=scatter", "-N", "nekRS_pink",
                        cwd=work)
        sim.wait_for(held, state="Q")
        assert sim.run("qhold", held).returncode == 0
        jobs = {"finished": sim.wait_for(finished), "walltime": sim.wait_for(walltime),
                "held": sim.wait_for(held, state="H"),
                "running": _started(sim, running), "mpi_running": _started(sim, mpi)}
        yield sim, jobs


def _started(sim: PbsSim, job_id: str) -> dict[str, Any]:
    for _ in range(200):
        job = sim.wait_for(job_id, state="R")
        if "session_id" in job:
            return job
    raise AssertionError(f"{job_id} never reported its session")


def _compare(real: dict[str, Any], simulated: dict[str, Any], where: str) -> None:
    for key, value in real.items():
        if key in OMITTED:
            assert key not in simulated, f"{where}: {key} is listed as omitted"
            continue
        assert key in simulated, f"{where}: simulator lacks {key}"
        if isinstance(value, dict):
            skip = {"Resource_List": OMITTED_RESOURCES,
                    "Variable_List": OMITTED_VARIABLES}.get(key, set())
            _compare({k: v for k, v in value.items() if k not in skip}, simulated[key],
                     f"{where}.{key}")
        else:
            assert type(simulated[key]) is type(value), (
                f"{where}.{key}: real {value!r} vs simulated {simulated[key]!r}")


def _real_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name in QSTAT_SAMPLES:
        for job_id, job in json.loads((SAMPLES / name).read_text())["Jobs"].items():
            yield name, job_id, job


@pytest.mark.parametrize(("name", "job_id", "real"), list(_real_jobs()),
                         ids=[f"{n[:20]}-{j.split('.')[0]}" for n, j, _ in _real_jobs()])
def test_simulated_record_has_the_real_keys_and_types(equivalents: tuple[PbsSim, dict],
                                                      name: str, job_id: str,
                                                      real: dict[str, Any]) -> None:
    _, jobs = equivalents
    simulated = jobs[EQUIVALENT[(real["job_state"], real["substate"])]]
    _compare(real, simulated, f"{name}:{job_id}")


def test_simulator_invents_no_attribute(equivalents: tuple[PbsSim, dict]) -> None:
    known: set[str] = set()
    for _, _, job in _real_jobs():
        known |= set(job)
    for kind, job in equivalents[1].items():
        assert set(job) <= known, f"{kind}: {set(job) - known}"


def test_top_level_and_layout_match_real_output(equivalents: tuple[PbsSim, dict]) -> None:
    sim, _ = equivalents
    text = sim.run("qstat", "-f", "-F", "json", "-x").stdout
    for name in QSTAT_SAMPLES:
        real_text = (SAMPLES / name).read_text().strip("\n")
        indent = len(real_text) - len(real_text.lstrip(" "))
        lines = [line[indent:] for line in real_text.splitlines()]
        assert all(LINE.match(line) for line in lines), name
        real = json.loads(real_text)
        assert [type(real[k]) for k in ("timestamp", "pbs_version", "pbs_server")] == [
            int, str, str]
    assert all(LINE.match(line) for line in text.splitlines())
    assert list(json.loads(text))[:4] == ["timestamp", "pbs_version", "pbs_server", "Jobs"]


def test_wrappers_match_their_decoded_stdout_and_the_sim_answers_alike(
        equivalents: tuple[PbsSim, dict], tmp_path: Path) -> None:
    for name in WRAPPERS[:2]:
        wrapper = json.loads((SAMPLES / name).read_text())
        decoded = (SAMPLES / name.replace(".fixture.json", ".stdout.json")).read_text()
        assert json.loads(wrapper["stdout"]) == json.loads(decoded)
        assert (wrapper["exit_code"], wrapper["stderr"]) == (0, "")
    sim, _ = equivalents
    qsub = json.loads((SAMPLES / WRAPPERS[2]).read_text())
    result = sim.run("qsub", "-v", "PATH=/bin:/usr/bin/:/usr/local/bin/", "-N", "test1",
                     stdin="sleep 30\n", cwd=tmp_path)
    shape = re.compile(r"^\d+\.[\w.-]+\n$")
    assert shape.match(qsub["stdout"]) and shape.match(result.stdout)
    assert (result.returncode, result.stderr) == (qsub["exit_code"], qsub["stderr"])
    qdel = json.loads((SAMPLES / WRAPPERS[3]).read_text())
    result = sim.run("qdel", result.stdout.strip())
    assert (result.returncode, result.stdout, result.stderr) == (
        qdel["exit_code"], qdel["stdout"], qdel["stderr"])


def test_error_texts_match_the_issue_quotes(equivalents: tuple[PbsSim, dict]) -> None:
    quotes = (SAMPLES / "cli_error_outputs_from_public_issues.txt").read_text()
    sim, _ = equivalents
    unknown = sim.run("qstat", "-xf", "-F", "json", "999999")
    assert unknown.returncode == 153 and "Return code: 153" in quotes
    assert unknown.stderr == "qstat: Unknown Job Id 999999.pbs-sim\n"
    assert "qstat: Unknown Job Id " in quotes
    finished = [k for k, v in sim.qstat_json().get("Jobs", {}).items() if v["substate"] == 92]
    result = sim.run("qstat", "-f", "-F", "json", finished[0])
    suffix = " Job has finished, use -x or -H to obtain historical job information\n"
    assert result.returncode == 35 and "retcode:35" in quotes
    assert result.stderr == f"qstat: {finished[0]}{suffix}" and suffix.strip() in quotes
    assert "Connection refused\nqstat: cannot connect to server localhost (errno=111)" in quotes
