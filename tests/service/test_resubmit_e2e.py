"""Resubmit end to end: rules see walltime kills on the PBS simulator and resubmit the jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from tests.service.conftest import cycle_until
from watcher.events import ACTION_FAILED
from watcher.mail.sink import SmtpSink
from watcher.pbs.lineage_facts import lineage_of
from watcher.store.models import DEAD, DONE, EventRecord, Intent

EXAMPLES = Path(__file__).parents[2] / "rules"
RETRY_TWICE = """
rules:
  - name: retry-walltime
    when: {pbs_job: {name: "sim-*", exit_status: -29}}
    do: [{resubmit: {job: "{{ job.id }}", max_attempts: 2}}]
"""


def intents(service) -> list[Intent]:
    with service.store.session() as s:
        return list(s.exec(select(Intent).order_by(Intent.id)).all())


def queued_ids(sim) -> list[str]:
    """Job ids with a Q (queued) record in the accounting log: one per qsub that succeeded."""
    return [line.split(";")[2] for line in sim.accounting_lines() if line.split(";")[1] == "Q"]


def submit_file(sim, workdir: Path, *args: str) -> str:
    result = sim.run("qsub", *args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_walltime_kills_are_resubmitted_until_max_attempts_then_the_action_fails(
        sim, make_service, tmp_path):
    service = make_service(RETRY_TWICE)
    (tmp_path / "long.sh").write_text("#!/bin/sh\nsleep 30\n")
    original = submit_file(sim, tmp_path, "-N", "sim-long", "-l", "walltime=00:00:01", "long.sh")
    cycle_until(service, lambda: any(i.status == DEAD for i in intents(service)), timeout=60)
    for _ in range(3):  # nothing more happens: no second firing, no second submission
        asyncio.run(service.cycle())
    first, second, third = intents(service)
    assert [i.status for i in (first, second, third)] == [DONE, DONE, DEAD]
    assert third.last_error == (f"max_attempts (2) reached for {original} "
                                f"(newest job {second.result['facts']['job_id']})")
    chain = (original, first.result["facts"]["job_id"], second.result["facts"]["job_id"])
    assert queued_ids(sim) == list(chain)  # exactly 1 original + 2 resubmissions
    assert lineage_of(service.store, original).chain == chain
    with service.store.session() as s:
        [failed] = s.exec(select(EventRecord).where(EventRecord.kind == ACTION_FAILED)).all()
    assert failed.subject == chain[-1] and "max_attempts (2)" in failed.data["error"]


def test_the_shipped_example_resubmits_a_walltime_kill_held_with_more_walltime(
        sim, make_service, tmp_path):
    service = make_service({"resubmit.yaml": (EXAMPLES / "resubmit.yaml").read_text()})
    (tmp_path / "long.sh").write_text("#!/bin/sh\nsleep 30\n")
    killed = submit_file(sim, tmp_path, "-N", "sim-step", "-l", "walltime=00:00:01", "long.sh")
    cycle_until(service, lambda: any(i.status == DONE for i in intents(service)), timeout=30)
    [intent] = intents(service)
    new = intent.result["facts"]["job_id"]
    job = sim.qstat_json(new)["Jobs"][new]
    assert (job["job_state"], job["Hold_Types"], job["Job_Name"]) == ("H", "u", "sim-step")
    assert job["Resource_List"]["walltime"] == "04:00:00"
    assert str(job["Variable_List"]["WATCHER_RESUBMIT_OF"]) == killed


DOUBLE_WALLTIME = """
rules:
  - name: double-walltime
    when: {pbs_job: {name: "sim-*", exit_status: -29}}
    do:
      - resubmit: {walltime: "{{ job.resources.walltime * 2 }}", max_attempts: 1}
"""


def test_doubling_the_walltime_set_in_the_script_by_a_pbs_directive(sim, make_service, tmp_path):
    """The most common way to set walltime is a `#PBS -l walltime=` line, which
    Submit_arguments does not show; `job.resources` (Resource_List) does."""
    service = make_service(DOUBLE_WALLTIME)
    (tmp_path / "long.sh").write_text(
        "#!/bin/sh\n#PBS -N sim-directive\n#PBS -l walltime=00:00:02\nsleep 30\n")
    killed = submit_file(sim, tmp_path, "long.sh")
    assert "walltime" not in sim.qstat_json(killed)["Jobs"][killed]["Submit_arguments"]
    cycle_until(service, lambda: any(i.status == DONE for i in intents(service)), timeout=60)
    [intent] = intents(service)
    assert intent.params["walltime"] == "00:00:04"
    new = intent.result["facts"]["job_id"]
    job = sim.qstat_json(new)["Jobs"][new]
    assert (job["Resource_List"]["walltime"], job["Job_Name"]) == ("00:00:04", "sim-directive")


def test_doubling_the_walltime_given_on_the_qsub_line(sim, make_service, tmp_path):
    service = make_service(DOUBLE_WALLTIME)
    (tmp_path / "long.sh").write_text("#!/bin/sh\nsleep 30\n")
    submit_file(sim, tmp_path, "-N", "sim-line", "-l", "walltime=00:00:01", "long.sh")
    cycle_until(service, lambda: any(i.status == DONE for i in intents(service)), timeout=60)
    [intent] = intents(service)
    new = intent.result["facts"]["job_id"]
    assert sim.qstat_json(new)["Jobs"][new]["Resource_List"]["walltime"] == "00:00:02"


RESUBMIT_THEN_MAIL = """
rules:
  - name: resubmit-and-tell
    when: {pbs_job: {name: "sim-*", exit_status: -29}}
    do:
      - name: retry
        resubmit: {walltime: "{{ job.resources.walltime * 2 }}", max_attempts: 1}
      - email:
          to: alice@example.org
          subject: "{{ job.id }} resubmitted as {{ steps.retry.job_id }}"
          body: "attempt {{ steps[0].attempt }}: {{ steps[0].detail }}"
"""


@pytest.fixture
def sink(settings) -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        settings.smtp = running.settings()
        yield running


def test_a_later_step_mails_the_new_job_id_of_the_resubmission(sim, make_service, sink,
                                                                tmp_path):
    service = make_service(RESUBMIT_THEN_MAIL)
    (tmp_path / "long.sh").write_text("#!/bin/sh\n#PBS -l walltime=00:00:01\nsleep 30\n")
    killed = submit_file(sim, tmp_path, "-N", "sim-tell", "long.sh")
    cycle_until(service, lambda: [i.status for i in intents(service)] == [DONE, DONE],
                timeout=60)
    resubmit, email = intents(service)
    new = resubmit.result["facts"]["job_id"]
    [mail] = sink.wait_for(1)
    assert mail.message["Subject"] == f"{killed} resubmitted as {new}"
    assert mail.message.get_content().startswith(
        f"attempt 1: resubmitted {killed} as {new} (attempt 1 of 1)")
    assert email.params["__deferred__"]["names"] == {"retry": 0}  # rendered when it ran


def test_a_step_result_comes_from_the_ledger_after_a_restart(sim, make_service, settings,
                                                             tmp_path):
    """The mail step renders from the resubmit step's ledger record, not from memory: it
    fails (SMTP down), the watcher restarts, and the new process mails the same new id."""
    with SmtpSink() as running:
        up = running.settings()
    settings.smtp = up  # that sink has stopped: its port refuses, a retryable failure
    service = make_service(RESUBMIT_THEN_MAIL)
    (tmp_path / "long.sh").write_text("#!/bin/sh\n#PBS -l walltime=00:00:01\nsleep 30\n")
    killed = submit_file(sim, tmp_path, "-N", "sim-restart", "long.sh")
    cycle_until(service, lambda: len(intents(service)) == 2
                and intents(service)[1].attempts >= 1, timeout=60)
    assert intents(service)[1].status == "pending"
    with SmtpSink() as sink:
        settings.smtp = sink.settings()
        restarted = make_service(RESUBMIT_THEN_MAIL)
        cycle_until(restarted, lambda: intents(restarted)[1].status == DONE, timeout=30)
        [mail] = sink.wait_for(1)
    new = intents(restarted)[0].result["facts"]["job_id"]
    assert mail.message["Subject"] == f"{killed} resubmitted as {new}"
