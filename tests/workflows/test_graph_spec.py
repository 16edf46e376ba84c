"""Graph workflow files: what is refused, where (file:line:col), and the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.workflows.graph import GraphSpec
from watcher.workflows.specfile import SpecFileError, load_workflow_file

EP1 = "11111111-1111-1111-1111-111111111111"
EP2 = "22222222-2222-2222-2222-222222222222"


def errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    with pytest.raises(SpecFileError) as caught:
        load_workflow_file(path)
    return [str(error).removeprefix(str(path)) for error in caught.value.errors]


def test_unknown_names_cycles_and_unsatisfiable_after_are_refused_at_their_place(
        tmp_path: Path) -> None:
    text = f"""name: run-42
steps:
  a: {{transfer: {{from: "{EP1}:/a/", to: "{EP2}:/a/"}}}}
  prep: {{job: prep.sh, after: [a, inptus]}}
  x: {{job: x.sh, after: [y]}}
  y: {{job: y.sh, after: x}}
  z: {{job: z.sh, after: [on_failure]}}
  self: {{job: s.sh, after: [self]}}
on_failure: {{job: cleanup.sh, after: [prep]}}
"""
    assert errors(tmp_path, text) == [
        ":4:35: steps.prep.after[1]: no step 'inptus'",
        ":6:18: steps.y.after[0]: cycle: x -> y -> x (no step of it can ever start)",
        ":7:26: steps.z.after[0]: 'on_failure' runs only when the workflow failed, so a step "
        "after it can never start",
        ":8:29: steps.self.after[0]: 'self' cannot come after itself",
        ":9:39: on_failure.after[0]: 'prep' is a step of the workflow: an on_failure step "
        "starts when the workflow failed, so it cannot wait for it",
    ]


def test_bad_locations_and_shapes_are_refused_with_line_and_column(tmp_path: Path) -> None:
    text = f"""name: run-42
steps:
  a: {{transfer: {{from: "nowhere/a/", to: "{EP2}:/a/"}}}}
  b:
    transfer:
      items:
        - {{from: "{EP1}:/b/", to: "{EP2}:/b/"}}
        - {{from: "{EP2}:/c/", to: "{EP1}:/c/"}}
  c: {{job: c.sh, transfer: {{from: "{EP1}:/b/", to: "{EP2}:/b/"}}}}
  d: {{job: d.sh, qsub: [-h], retries: {{walltime: 1, exit_code: [3]}}}}
"""
    assert errors(tmp_path, text) == [
        ":3:24: steps.a.transfer.from: expected ENDPOINT_ID:PATH but got 'nowhere/a/'",
        ":6:7: steps.b.transfer: every item of one transfer must go between the same two "
        "endpoints (one Globus task) but got 2 endpoint pairs: make each pair a step of its "
        "own",
        ":9:6: steps.c: a step is exactly one of 'transfer' and 'job'",
        ":10:24: steps.d.qsub: '-h' cannot be used: the watcher holds and releases the job "
        "itself and needs qsub to print the job id",
        ":10:53: steps.d.retries.exit_code: unknown key 'exit_code'",
    ]


def test_stage_submit_prints_the_errors_and_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text("name: w\nsteps:\n  a: {job: a.sh, after: [b]}\n")
    result = CliRunner().invoke(cli, ["stage", "submit", "-f", str(path), "--db",
                                      f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1
    assert f"{path}:3:26: steps.a.after[0]: no step 'b'" in result.output


def test_stage_schema_describes_the_graph_file() -> None:
    result = CliRunner().invoke(cli, ["stage", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"name", "steps", "on_failure", "email"} <= set(schema["properties"])
    assert "after" in json.dumps(schema)


def test_the_readme_graph_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- graph-example -->", 1)[1].split("```yaml", 1)[1]
    path = tmp_path / "wf.yaml"
    path.write_text(block.split("```", 1)[0])
    assert isinstance(load_workflow_file(path), GraphSpec)


def test_a_pbs_dependency_in_qsub_is_refused_in_either_spelling(tmp_path: Path) -> None:
    text = """name: run-42
steps:
  a: {job: a.sh}
  b: {job: b.sh, after: [a], qsub: [-W, "depend=afterok:1.srv"]}
  c: {job: c.sh, qsub: ["-Wdepend=afterany:1.srv"]}
  d: {job: d.sh, qsub: [-W, group_list=proj]}
"""
    found = errors(tmp_path, text)
    assert len(found) == 2 and all("give dependencies with 'after:'" in e for e in found)
    assert [e.split(":")[3].strip() for e in found] == ["steps.b.qsub", "steps.c.qsub"]


def test_if_failed_and_grafted_tasks_are_checked_at_their_place(tmp_path: Path) -> None:
    task = "5b0e2d1c-6d04-11e5-ba46-22000b92c6ec"
    text = f"""name: run-42
steps:
  a: {{transfer: {{task: {task}}}}}
  b: {{transfer: {{task: {task}, from: "{EP1}:/a/"}}}}
  c: {{transfer: {{task: {task}}}, retries: 2}}
  prep: {{job: prep.sh, after: [a], if_failed: [a]}}
on_failure:
  cleanup: {{job: cleanup.sh, if_failed: [prep, perp]}}
"""
    found = errors(tmp_path, text)
    assert found[:2] == [
        ":4:17: steps.b.transfer: a grafted transfer ('task') is that task: it takes no "
        "'from', 'to' or 'items'",
        ":5:6: steps.c: a grafted transfer ('task') cannot be retried: watcher does not know "
        "what it copies"]
    good = text.replace(f'  b: {{transfer: {{task: {task}, from: "{EP1}:/a/"}}}}\n', "") \
        .replace(", retries: 2", "")
    assert errors(tmp_path, good) == [
        ":5:47: steps.prep.if_failed: 'if_failed' is for on_failure steps: it names the "
        "steps whose failure starts them",
        ":7:48: on_failure.cleanup.if_failed[1]: no step 'perp' (did you mean 'prep'?)"]
    fixed = good.replace(", if_failed: [a]", "").replace(", perp", "")
    (tmp_path / "wf.yaml").write_text(fixed)
    spec = load_workflow_file(tmp_path / "wf.yaml")
    assert spec.to_record()["steps"]["a"]["transfer"] == {"task": task}
    assert spec.to_record()["on_failure"]["cleanup"]["if_failed"] == ["prep"]
