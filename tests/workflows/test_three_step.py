"""The three-step shape is a graph: what `as_graph` makes of `watcher stage submit`'s options,
and how the one engine plans it (pure)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from watcher.workflows.graph import Step
from watcher.workflows.graph_plan import Finish, Release, Skip, Start, Submit, advance
from watcher.workflows.graph_run import step_argv
from watcher.workflows.spec import WorkflowSpec
from watcher.workflows.three_step import as_graph

SRC, DST = "aaaa-1", "bbbb-2"
TASK = "5b0e2d1c-6d04-11e5-ba46-22000b92c6ec"


def spec(**fields: Any) -> WorkflowSpec:
    base: dict[str, Any] = {"script": "run/c.sh", "cleanup": "clean.sh",
                            "stage_in": [{"from": f"{SRC}:/in/", "to": f"{DST}:/run/in/"},
                                         {"from": f"{SRC}:/x.dat", "to": f"{DST}:/run/x.dat"}],
                            "stage_out": [{"from": f"{DST}:/run/out/", "to": f"{SRC}:/res/"}]}
    return WorkflowSpec.model_validate({**base, **fields})


def fresh(record: dict[str, Any]) -> dict[str, Any]:
    def entry(step: dict[str, Any]) -> dict[str, Any]:
        return {"kind": step["kind"], "status": "pending", "n": 0, "attempt": 0, "jobs": [],
                "tasks": []}
    return {section: {name: entry(step) for name, step in record[section].items()}
            for section in ("steps", "on_failure")}


def with_status(progress: dict[str, Any], section: str = "steps", **steps: dict[str, Any]
                ) -> dict[str, Any]:
    out = {key: {name: dict(entry) for name, entry in value.items()}
           for key, value in progress.items()}
    for name, changes in steps.items():
        out[section][name].update(changes)
    return out


def test_the_options_make_stage_in_compute_stage_out_and_a_cleanup_on_failure() -> None:
    record = as_graph(spec(name="run42", walltime_retries=2)).to_record()
    assert list(record["steps"]) == ["stage-in", "compute", "stage-out"]
    assert record["steps"]["stage-in"]["transfer"] == {
        "source_endpoint": SRC, "destination_endpoint": DST,
        "items": [{"source": "/in/", "destination": "/run/in/", "recursive": True},
                  {"source": "/x.dat", "destination": "/run/x.dat", "recursive": False}]}
    assert record["steps"]["compute"]["after"] == ["stage-in"]
    assert record["steps"]["compute"]["retries"]["walltime"] == 2
    assert record["steps"]["stage-out"]["after"] == ["compute"]
    assert record["on_failure"]["cleanup"]["if_failed"] == ["stage-in", "compute"]
    assert record["name"] == "run42"


def test_compute_keeps_its_options_and_name_cleanup_only_where_it_is_charged() -> None:
    record = as_graph(spec(qsub_args=["-l", "walltime=01:00:00", "-q", "work", "-v",
                                      "A=1", "-A", "proj"])).to_record()
    compute = step_argv(record["steps"]["compute"], "c", "wf-abc123", "compute", 1, hold=True)
    assert compute == [
        "-l", "walltime=01:00:00", "-q", "work", "-A", "proj", "-N", "c", "-h", "-v",
        "A=1,WATCHER_WORKFLOW=wf-abc123,WATCHER_STEP=compute,"
        "WATCHER_INTENT=wf-abc123:compute:1", "run/c.sh"]
    cleanup = step_argv(record["on_failure"]["cleanup"], "c", "wf-abc123", "cleanup", 1,
                        hold=False)
    assert cleanup == [
        "-q", "work", "-A", "proj", "-N", "c-cleanup", "-v",
        "WATCHER_WORKFLOW=wf-abc123,WATCHER_STEP=cleanup,WATCHER_INTENT=wf-abc123:cleanup:1",
        "clean.sh"]


def test_a_name_given_with_qsub_is_kept() -> None:
    record = as_graph(spec(qsub_args=["-N", "mine"])).to_record()
    assert record["steps"]["compute"]["qsub"] == ["-N", "mine"]


@pytest.mark.parametrize("args", [["-W", "depend=afterok:1.s"], ["-Wdepend=afterok:1.s"]])
def test_depend_is_refused_for_the_three_steps_too(args: list[str]) -> None:
    with pytest.raises(ValidationError, match="releases compute itself"):
        spec(qsub_args=args)


def test_a_grafted_stage_in_is_that_task_and_cannot_be_retried() -> None:
    record = as_graph(spec(stage_in=[], stage_in_task=TASK)).to_record()
    assert record["steps"]["stage-in"]["transfer"] == {"task": TASK}
    with pytest.raises(ValidationError, match="cannot be retried"):
        Step.model_validate({"transfer": {"task": TASK}, "retries": 1})


def test_a_fresh_workflow_starts_the_stage_in_and_submits_only_compute_held() -> None:
    record = as_graph(spec()).to_record()
    moves = advance("wf-1", "submitted", record, fresh(record)).moves
    assert moves == [Start("steps", "stage-in", 1), Submit("steps", "compute", 1, hold=True)]


def test_compute_is_released_when_the_stage_in_is_in() -> None:
    record = as_graph(spec()).to_record()
    progress = with_status(fresh(record), **{
        "stage-in": {"status": "succeeded", "tasks": ["T1"], "attempt": 1},
        "compute": {"status": "held", "n": 1, "jobs": ["1.s"]}})
    assert advance("wf-1", "running", record, progress).moves == [
        Release("steps", "compute", "1.s")]


def test_a_failed_compute_skips_the_stage_out_and_runs_cleanup() -> None:
    record = as_graph(spec()).to_record()
    progress = with_status(fresh(record), **{
        "stage-in": {"status": "succeeded"}, "compute": {"status": "failed", "jobs": ["1.s"]}})
    assert advance("wf-1", "running", record, progress).moves == [
        Skip("steps", "stage-out", "compute did not succeed"), Finish("failing"),
        Submit("on_failure", "cleanup", 1, hold=False)]


def test_a_failed_stage_out_leaves_the_output_and_does_not_run_cleanup() -> None:
    record = as_graph(spec()).to_record()
    progress = with_status(fresh(record), **{
        "stage-in": {"status": "succeeded"}, "compute": {"status": "succeeded"},
        "stage-out": {"status": "failed"}})
    assert advance("wf-1", "running", record, progress).moves == [
        Finish("failing"),
        Skip("on_failure", "cleanup", "runs only if stage-in or compute failed"),
        Finish("failed", mail=False)]


def test_success_deletes_a_held_cleanup_left_by_an_earlier_watcher() -> None:
    record = as_graph(spec()).to_record()
    progress = with_status(fresh(record), **{
        "stage-in": {"status": "succeeded"}, "compute": {"status": "succeeded"},
        "stage-out": {"status": "succeeded"}})
    progress = with_status(progress, "on_failure",
                           cleanup={"status": "held", "n": 1, "jobs": ["2.s"]})
    assert advance("wf-1", "running", record, progress).moves == [
        Skip("on_failure", "cleanup", "the workflow succeeded", job="2.s"), Finish("done")]


QSUB_PIECES = ["-l", "walltime=01:00:00", "-q", "work", "-A", "p", "-h", "-N", "x", "-v", "A=1",
               "-j", "oe", "-W", "group_list=g", "-J", "1-3", "-r", "y", "-Wdepend=afterok:1",
               "--", "p", "-vB=2,C", "-lselect=1:ncpus=2", "x\\y", "a'b", "-lwalltime=10"]
NAME_CHARS = "abcXYZ019 @#-_.:/,=+%\\'\""


def test_every_spec_the_options_accept_becomes_a_graph_and_qsub_command_lines() -> None:
    """Generated options: what the validator accepts never fails later (a conversion or a
    qsub line that raises would leave a recorded workflow stuck); the rest is refused."""
    rng = random.Random(7)
    accepted = 0
    for _ in range(4000):
        data: dict[str, Any] = {
            "script": "".join(rng.choice(NAME_CHARS) for _ in range(rng.randint(1, 10))),
            "qsub_args": rng.sample(QSUB_PIECES, rng.randint(0, 5)),
            "walltime_factor": rng.choice([1, 2]), "cleanup": rng.choice([None, "c.sh"]),
            "name": "".join(rng.choice(NAME_CHARS) for _ in range(rng.randint(0, 6)))}
        if rng.random() < 0.5:
            data["stage_in_task"] = TASK
        else:
            data["stage_in"] = [{"from": f"{SRC}:/x/", "to": f"{DST}:/y/"}]
        try:
            valid = WorkflowSpec.model_validate(data)
        except ValidationError:
            continue
        accepted += 1
        record = as_graph(valid).to_record()
        for section in ("steps", "on_failure"):
            for name, step in record[section].items():
                if step["kind"] == "job":
                    argv = step_argv(step, record["name"], "wf-1", name, 2, hold=True,
                                     walltime_retries=1)
                    assert argv[-1] == step["script"] and "-h" in argv
    assert accepted > 100  # the generator reaches both sides
