"""The `resubmit` action on the PBS simulator: real qstat and qsub, real jobs, real lineage."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, Outcome, Services
from watcher.actions.resubmit import Params, command_line, execute
from watcher.pbs.commands import PbsCommands
from watcher.pbs.lineage import Lineage
from watcher.pbs.lineage_facts import lineage_of
from watcher.pbs.snapshot import JobSnapshot
from watcher.pbs.submit_args import SubmitArgsError
from watcher.rules.model import ActionCall
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import open_store
from watcher.templating import TemplateError

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TAGS = {"WATCHER_RESUBMIT_OF": "7.srv", "WATCHER_ROOT": "7.srv", "WATCHER_ATTEMPT": "1",
        "WATCHER_INTENT": "r|7.srv|1|0"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PbsSim]:
    with PbsSim(tmp_path_factory.mktemp("pbs"), nodes=4, kill_delay=0.5, tick=0.05) as running:
        yield running


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "short.sh").write_text("#!/bin/sh\nsleep 2\necho finished\n")
    (work / "long.sh").write_text("#!/bin/sh\nsleep 30\n")
    return work


def submit(sim: PbsSim, workdir: Path, *args: str) -> str:
    """qsub with a script file (the last argument), as a user would type it."""
    result = sim.run("qsub", *args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def resubmit(sim: PbsSim, key: str | None = None, services: Services | None = None,
             **params: Any) -> Outcome:
    """Run the action once; the key defaults to one like the engine's (rule|job|event|step)."""
    key = key or f"rule|{params['job']}|1|0"
    ctx = ActionContext(sim.commands, key, "rule", NOW, services or Services())
    return asyncio.run(execute(ctx, Params(**params)))


def queued(sim: PbsSim) -> int:
    return sum(";Q;" in line for line in sim.accounting_lines())


def attrs(sim: PbsSim, job_id: str) -> dict[str, Any]:
    return sim.qstat_json(job_id)["Jobs"][job_id]


def test_a_walltime_kill_is_resubmitted_with_a_longer_walltime_and_completes(sim, workdir):
    old = submit(sim, workdir, "-N", "sim-short", "-l", "walltime=00:00:01", "short.sh")
    assert sim.wait_for(old)["Exit_status"] == -29
    outcome = resubmit(sim, job=old, walltime="00:00:30")
    assert outcome.ok, outcome.detail
    new = outcome.facts["job_id"]
    assert outcome.facts == {"job_id": new, "resubmitted_from": old, "attempt": 1, "root": old}
    done = sim.wait_for(new)
    assert done["Exit_status"] == 0
    assert (done["Job_Name"], done["Resource_List"]["walltime"]) == ("sim-short", "00:00:30")
    assert done["Variable_List"]["PBS_O_WORKDIR"] == str(workdir)
    tags = {k: str(v) for k, v in done["Variable_List"].items() if k.startswith("WATCHER_")}
    assert tags == {"WATCHER_RESUBMIT_OF": old, "WATCHER_ROOT": old, "WATCHER_ATTEMPT": "1",
                    "WATCHER_INTENT": f"rule|{old}|1|0"}


def test_running_the_same_intent_again_submits_nothing_new(sim, workdir):
    """A crash after qsub, before the ledger recorded the outcome, runs the intent again."""
    old = submit(sim, workdir, "-N", "sim-crash", "-h", "long.sh")
    before = queued(sim)
    first = resubmit(sim, key="crash|1", job=old, hold=True)
    again = resubmit(sim, key="crash|1", job=old, hold=True)
    assert first.ok and again.ok
    assert again.facts["job_id"] == first.facts["job_id"]
    assert "already resubmitted" in again.detail
    assert queued(sim) == before + 1
    other_intent = resubmit(sim, key="crash|2", job=old, hold=True)
    assert other_intent.facts["job_id"] != first.facts["job_id"]


def test_max_attempts_counts_resubmissions_in_one_lineage(sim, workdir):
    original = submit(sim, workdir, "-N", "sim-held", "-h", "long.sh")
    first = resubmit(sim, key="m|1", job=original, max_attempts=2, hold=True)
    second = resubmit(sim, key="m|2", job=first.facts["job_id"], max_attempts=2, hold=True)
    assert (first.facts["attempt"], second.facts["attempt"]) == (1, 2)
    assert second.facts["root"] == original
    third = resubmit(sim, key="m|3", job=second.facts["job_id"], max_attempts=2, hold=True)
    assert third == Outcome.failed(
        f"max_attempts (2) reached for {original} (newest job {second.facts['job_id']})",
        retryable=False)


def test_hold_variables_and_the_original_hold(sim, workdir):
    old = submit(sim, workdir, "-N", "sim-vars", "-h", "-v", "KEEP=1,LIST='a,b'", "long.sh")
    held = resubmit(sim, key="v|1", job=old, hold=True, variables={"EXTRA": "x,y"})
    job = attrs(sim, held.facts["job_id"])
    assert (job["job_state"], job["Hold_Types"]) == ("H", "u")
    variables = {k: str(v) for k, v in job["Variable_List"].items()}
    assert {k: variables[k] for k in ("KEEP", "LIST", "EXTRA")} == {
        "KEEP": "1", "LIST": "a,b", "EXTRA": "x,y"}
    # The original's -h is not repeated unless asked: the copy is queued, not held.
    released = resubmit(sim, key="v|2", job=old, queue="workq")
    assert attrs(sim, released.facts["job_id"])["Hold_Types"] == "n"
    sim.run("qdel", released.facts["job_id"])


def test_a_stdin_script_needs_script(sim, workdir):
    old = sim.qsub("sleep 30\n", "-N", "sim-stdin", "-h", cwd=workdir)
    failed = resubmit(sim, job=old)
    assert not failed.ok and not failed.retryable
    assert "read from standard input" in failed.detail and "`script:`" in failed.detail
    outcome = resubmit(sim, key="s|1", job=old, script="long.sh", hold=True)
    job = attrs(sim, outcome.facts["job_id"])
    assert job["Submit_arguments"].endswith(" long.sh")
    assert job["Job_Name"] == "sim-stdin"


def test_the_lineage_is_recorded_when_a_store_is_there(sim, workdir, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        services = Services(store=store)
        root = submit(sim, workdir, "-N", "sim-line", "-h", "long.sh")
        a = resubmit(sim, key="l|1", services=services, job=root, hold=True).facts["job_id"]
        b = resubmit(sim, key="l|2", services=services, job=a, hold=True).facts["job_id"]
        expected = Lineage(root, (root, a, b))
        assert [lineage_of(store, j) for j in (root, a, b)] == [expected] * 3
        again = resubmit(sim, key="l|2", services=services, job=a, hold=True)
        assert again.facts["job_id"] == b and lineage_of(store, b) == expected
    finally:
        store.close()


def test_what_pbs_refuses_is_permanent_and_an_unknown_job_too(sim, workdir):
    old = submit(sim, workdir, "-N", "sim-queue", "-h", "long.sh")
    refused = resubmit(sim, job=old, queue="nosuchqueue")
    assert not refused.ok and not refused.retryable and "Unknown queue" in refused.detail
    unknown = resubmit(sim, job="999999.pbs-sim")
    assert not unknown.ok and not unknown.retryable and "unknown to PBS" in unknown.detail


def test_a_server_that_does_not_answer_is_retried(tmp_path, workdir):
    with PbsSim(tmp_path / "down", nodes=1) as down:
        old = submit(down, workdir, "-N", "sim-down", "-h", "long.sh")
        down.stop()
        outcome = resubmit(down, job=old)
    assert not outcome.ok and outcome.retryable and "cannot connect" in outcome.detail


def snapshot(submit_arguments: str, **changes: Any) -> JobSnapshot:
    fields: dict[str, Any] = {"id": "8.srv", "name": "sim-1", "owner": "alice", "queue": "workq",
                              "state": "F", "submit_arguments": submit_arguments,
                              "variables": {"PBS_O_WORKDIR": "/w", "HOME": "/home/a", **TAGS}}
    return JobSnapshot(**{**fields, **changes})


def test_command_line_drops_what_must_not_be_repeated() -> None:
    old = snapshot("-h -z -W depend=afterok:3.srv,umask=022 -W block=true -v A=1,HOME,"
                   "WATCHER_ATTEMPT=1 -l select=1:ncpus=2,walltime=1 job.sh")
    tags = {"WATCHER_ATTEMPT": "2", "WATCHER_INTENT": "k"}
    assert command_line(old, Params(job="8.srv"), tags) == [
        "-W", "umask=022", "-l", "select=1:ncpus=2,walltime=1", "-N", "sim-1",
        "-v", "WATCHER_ATTEMPT=2,WATCHER_INTENT=k,A=1,HOME=/home/a", "job.sh"]
    changed = Params(job="8.srv", hold=True, walltime="2:00:00", queue="long",
                     variables={"A": "2"})
    assert command_line(snapshot("-q short -N n job.sh"), changed, {}) == [
        "-N", "n", "-h", "-l", "walltime=02:00:00", "-q", "long", "-v", "A=2", "job.sh"]


def test_command_line_refuses_an_interactive_job() -> None:
    with pytest.raises(SubmitArgsError, match="interactive"):
        command_line(snapshot("-I -l select=1"), Params(job="8.srv"), {})


@pytest.mark.parametrize("params", [
    {"job": "1", "walltime": "two hours"},
    {"job": "1", "max_attempts": 0},
    {"job": "1", "variables": {"WATCHER_ATTEMPT": "9"}},
    {"job": "1", "variables": {"PBS_O_WORKDIR": "/x"}},
    {"job": "1", "variables": {"bad name": "x"}},
    {"job": "1", "variables": {"Q": "it's \"x\""}},
    {"job": "1", "queue": "two words"},
    {"job": ""},
    {"job": "1", "retries": 3},
])
def test_bad_params_are_rejected(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Params(**params)


def test_resubmit_is_registered() -> None:
    assert ACTIONS["resubmit"].params is Params and ACTIONS["resubmit"].execute is execute


def test_job_defaults_to_the_job_that_fired_the_rule() -> None:
    call = ActionCall(type="resubmit", params={"max_attempts": 2})
    assert call.bind({"job": {"id": "12.srv"}}).job == "12.srv"
    with pytest.raises(TemplateError, match="job"):
        call.bind({"event": {"kind": "source_down"}})


def test_an_unrendered_default_is_refused_not_sent_to_pbs() -> None:
    ctx = ActionContext(PbsCommands(overrides={"qstat": "/nonexistent"}), "k", "r", NOW)
    outcome = asyncio.run(execute(ctx, Params()))
    assert not outcome.ok and not outcome.retryable and "not rendered" in outcome.detail


def test_a_workflow_job_keeps_its_identity_across_a_resubmission() -> None:
    """Staging rules select workflow jobs by WATCHER_WORKFLOW/WATCHER_STEP: keep them."""
    old = snapshot("-v A=1,WATCHER_WORKFLOW=wf-1,WATCHER_STEP=compute,WATCHER_ATTEMPT=1 job.sh")
    argv = command_line(old, Params(job="8.srv"), {"WATCHER_ATTEMPT": "2"})
    assert argv[argv.index("-v") + 1] == (  # the lineage tags first, out of the users' reach
        "WATCHER_ATTEMPT=2,A=1,WATCHER_WORKFLOW=wf-1,WATCHER_STEP=compute")


def test_a_variable_ending_in_a_backslash_keeps_the_tags_and_is_found_again(sim, workdir):
    """Issue 11, finding 3: `-v 'TRAIL=x\\'` used to swallow the lineage tags, so a run after a
    crash did not find the job and submitted a second one."""
    old = submit(sim, workdir, "-N", "sim-trail", "-h", "-v", "A=1,TRAIL=x\\", "long.sh")
    before = queued(sim)
    first = resubmit(sim, key="trail|1", job=old, hold=True, variables={"WIN": "C:\\\\d\\\\"})
    assert first.ok, first.detail
    new = first.facts["job_id"]
    got = attrs(sim, new)["Variable_List"]
    had = attrs(sim, old)["Variable_List"]
    assert (got["A"], got["TRAIL"]) == (had["A"], had["TRAIL"])  # what the job had, again
    assert {k: str(v) for k, v in got.items() if k.startswith("WATCHER_")} == {
        "WATCHER_RESUBMIT_OF": old, "WATCHER_ROOT": old, "WATCHER_ATTEMPT": "1",
        "WATCHER_INTENT": "trail|1"}
    again = resubmit(sim, key="trail|1", job=old, hold=True, variables={"WIN": "C:\\\\d\\\\"})
    assert again.facts["job_id"] == new and "already resubmitted" in again.detail
    assert queued(sim) == before + 1
    for job in (old, new):
        sim.run("qdel", job)


def test_a_value_qsub_cannot_pass_is_refused_before_submitting(sim, workdir):
    with pytest.raises(ValidationError, match="holds a quote"):
        Params(job="1.srv", variables={"Q": "it's"})
    old = submit(sim, workdir, "-N", "sim-q", "-h", "long.sh")
    before = queued(sim)
    ctx = ActionContext(sim.commands, "q|1", "rule", NOW)
    params = Params.model_construct(**{**Params(job=old).model_dump(), "variables": {"Q": "a\\b"}})
    outcome = asyncio.run(execute(ctx, params))
    assert not outcome.ok and not outcome.retryable
    assert "variable 'Q' holds a lone backslash" in outcome.detail
    assert queued(sim) == before
    sim.run("qdel", old)
