"""A scenario's files and its workflow: the input on its source endpoint, the two job scripts
in its run directory on scratch, and the spec `watcher stage submit` would record for it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import globus_sdk

from watcher.demo.scenarios import Scenario
from watcher.demo.world import DemoWorld
from watcher.workflows.graph import GraphSpec
from watcher.workflows.spec import WorkflowSpec

COMPUTE = """#!/bin/sh
# The "simulation": a checksum of each staged input file, in out/result.txt.
cd "$PBS_O_WORKDIR"
mkdir -p out
cksum in/* > out/result.txt
"""
CLEANUP = """#!/bin/sh
# Runs only when the workflow fails: tidy scratch and leave a note.
cd "$PBS_O_WORKDIR"
rm -rf in
echo "cleaned up after a failed workflow" > cleanup-ran
"""
_PATTERN = b"watcher demo input 0123456789\n"


@dataclass(frozen=True)
class Layout:
    """Where one scenario's files are, locally and as Globus paths."""

    source: Path  # the source endpoint's root
    letter: str
    run_dir: Path

    @property
    def inputs(self) -> Path:
        """The input directory on the source endpoint (`<letter>/in`)."""
        return self.source / self.letter / "in"

    @property
    def results(self) -> Path:
        """Where the stage-out puts the results on the source endpoint (`<letter>/results`)."""
        return self.source / self.letter / "results"


def layout(world: DemoWorld, scenario: Scenario) -> Layout:
    """Where the scenario's files go (source endpoint root, scratch run directory); no I/O."""
    return Layout(world.root / scenario.source, scenario.letter,
                  world.root / "scratch" / scenario.letter / "run")


def prepare(world: DemoWorld, scenario: Scenario) -> Layout:
    """Write the scenario's input and scripts; returns where they are."""
    where = layout(world, scenario)
    where.inputs.mkdir(parents=True, exist_ok=True)
    repeat = scenario.input_bytes // len(_PATTERN) + 1
    (where.inputs / "input.dat").write_bytes((_PATTERN * repeat)[:scenario.input_bytes])
    where.run_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("compute.sh", scenario.compute or COMPUTE), ("cleanup.sh", CLEANUP)):
        (where.run_dir / name).write_text(text)
        (where.run_dir / name).chmod(0o755)
    return where


def spec(world: DemoWorld, scenario: Scenario, stage_in_task: str | None = None
         ) -> WorkflowSpec:
    """What `watcher stage submit --name X --stage-in SRC DST (or --stage-in-task ID)
    --stage-out SRC DST --cleanup cleanup.sh compute.sh` records, run in scratch/<X>/run."""
    src, scratch, x = world.endpoint(scenario.source), world.endpoint("scratch"), scenario.letter
    data: dict[str, object] = {
        "name": scenario.name, "script": "compute.sh", "cleanup": "cleanup.sh",
        "stage_out": [{"from": f"{scratch}:/{x}/run/out/", "to": f"{src}:/{x}/results/"}],
        "qsub_args": list(scenario.qsub)}
    if stage_in_task is None:
        data["stage_in"] = [{"from": f"{src}:/{x}/in/", "to": f"{scratch}:/{x}/run/in/"}]
    else:
        data["stage_in_task"] = stage_in_task
    return WorkflowSpec.model_validate(data)


def start_by_hand(world: DemoWorld, scenario: Scenario) -> str:
    """The transfer a user starts outside watcher (web app, globus-cli): its task id."""
    x = scenario.letter
    data = globus_sdk.TransferData(world.endpoint(scenario.source), world.endpoint("scratch"),
                                   label=f"{x} inputs, started by hand")
    data.add_item(f"/{x}/in/", f"/{x}/run/in/", recursive=True)
    return str(world.user_transfer_client().submit_transfer(data)["task_id"])


PREP = """#!/bin/sh
# Joins the two inputs (one from each facility) into what the sweep reads.
cd "$PBS_O_WORKDIR"
cksum in/* b/* > joined.txt
"""
SWEEP = """#!/bin/sh
# One point of a parameter sweep per subjob ($PBS_ARRAY_INDEX).
cd "$PBS_O_WORKDIR"
mkdir -p out
{ echo "point $PBS_ARRAY_INDEX"; cat joined.txt; } > out/point-$PBS_ARRAY_INDEX.txt
"""


def graph_spec(world: DemoWorld, scenario: Scenario) -> GraphSpec:
    """F's graph workflow (the README's example, made small), run in scratch/<X>/run."""
    lab, collab, scratch = (world.endpoint(n) for n in ("lab", "collab", "scratch"))
    x = scenario.letter
    where = layout(world, scenario)
    for name, text in (("prep.sh", PREP), ("sweep.sh", SWEEP)):
        (where.run_dir / name).write_text(text)
        (where.run_dir / name).chmod(0o755)
    more = world.root / "collab" / x / "b"
    more.mkdir(parents=True, exist_ok=True)
    (more / "more.dat").write_bytes((_PATTERN * 10_000)[:300_000])  # 3 s: failed mid-way
    return GraphSpec.model_validate({
        "name": scenario.name, "on_failure": {"job": "cleanup.sh"}, "steps": {
            "in-lab": {"transfer": {"from": f"{lab}:/{x}/in/", "to": f"{scratch}:/{x}/run/in/"}},
            "in-collab": {"transfer": {"from": f"{collab}:/{x}/b/",
                                        "to": f"{scratch}:/{x}/run/b/"}, "retries": 1},
            "prep": {"job": "prep.sh", "after": ["in-lab", "in-collab"]},
            "sweep": {"job": "sweep.sh", "qsub": ["-J", "1-3"], "after": ["prep"]},
            "out-lab": {"transfer": {"from": f"{scratch}:/{x}/run/out/",
                                     "to": f"{lab}:/{x}/results/"}, "after": ["sweep"]},
            "out-collab": {"transfer": {"from": f"{scratch}:/{x}/run/out/",
                                        "to": f"{collab}:/{x}/shared/"},
                            "after": ["sweep"]}}})
