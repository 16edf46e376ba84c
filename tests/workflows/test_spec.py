"""Three-step specs: options and files are checked before anything is submitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from watcher.workflows.spec import Location, WorkflowSpec
from watcher.workflows.specfile import SpecFileError, load_workflow_file

DATA = Path(__file__).parent / "testdata"
SRC, DST = "aaaa-1", "bbbb-2"
TASK = "5b0e2d1c-6d04-11e5-ba46-22000b92c6ec"


def spec(**fields: object) -> WorkflowSpec:
    return WorkflowSpec.model_validate({"script": "c.sh", **fields})


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "expected exactly one of 'stage_in'"),
    ({"stage_in_task": TASK, "stage_in": [{"from": f"{SRC}:/a", "to": f"{DST}:/b"}]},
     "expected exactly one of 'stage_in'"),
    ({"stage_in_task": "T 1"}, "should match pattern"),
    ({"stage_in": [{"from": f"{SRC}:/a", "to": f"{DST}:/b"},
                   {"from": f"{DST}:/a", "to": f"{SRC}:/b"}]}, "same two endpoints"),
    ({"stage_in_task": TASK, "qsub_args": ["-z"]}, "'-z' cannot be used"),
    ({"stage_in_task": TASK, "qsub_args": ["-N", "a b"]}, "cannot hold whitespace"),
    ({"stage_in_task": TASK, "name": "a b"}, "expected letters, digits"),
])
def test_bad_specs_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**fields)


@pytest.mark.parametrize("text", ["nocolon", ":/path", "ep:", "not an id:/x"])
def test_locations_need_an_endpoint_id_and_a_path(text: str) -> None:
    with pytest.raises(ValueError):
        Location.parse(text)


def test_a_file_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = DATA / "bad-wf.yaml"
    with pytest.raises(SpecFileError) as caught:
        load_workflow_file(path)
    assert str(caught.value).splitlines() == [
        f"{path}:1:7: name: expected letters, digits, '.', '-' and '_' (a letter or digit "
        "first) but got 'run 42'",
        f"{path}:4:5: stage_in[0]: missing required key 'to'",
        f"{path}:4:27: stage_in[0].too: unknown key 'too' (did you mean 'to'?)",
        f"{path}:6:12: stage_out[0].from: 'zz' is not a Globus endpoint id (a UUID) in "
        "'zz:/a'",
        f"{path}:7:19: walltime_retries: expected an integer but got 'lots'",
    ]


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(f"script: c.sh\nstage_in_task: {TASK}\nstage_out:\n"
                    f"  - {{from: '{DST}:/out/', to: '{SRC}:/res/'}}\nemail: a@b.org\n")
    loaded = load_workflow_file(path)  # the three steps, as their graph
    assert loaded.steps["stage-in"].transfer is not None
    assert (loaded.steps["stage-in"].transfer.task, loaded.email) == (TASK, "a@b.org")
    assert loaded.steps["stage-out"].after == ["compute"]


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text("- a\n")
    with pytest.raises(SpecFileError, match="expected a mapping of workflow fields"):
        load_workflow_file(path)
