"""A graph workflow world: the staging world plus a third endpoint, and a six-step graph.

    in-a   (transfer)  src:/in/      -> dst:/run/in/
    in-b   (transfer)  ep3:/b/       -> dst:/run/b/     (another endpoint pair)
    prep   (job)       after in-a, in-b: joins both inputs into mid.txt
    sim    (job)       after prep: writes out/result.txt
    out    (transfer)  dst:/run/out/ -> src:/results/   after sim
    share  (transfer)  dst:/run/out/ -> ep3:/shared/    after sim
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.workflows._staging import Staging

PREP = """#!/bin/sh
cd "$PBS_O_WORKDIR"
cat in/data.txt b/more.txt > mid.txt
"""
SIM = """#!/bin/sh
cd "$PBS_O_WORKDIR"
mkdir -p out
tr a-z A-Z < mid.txt > out/result.txt
"""
FAIL = "#!/bin/sh\nexit 3\n"
CLEANUP = """#!/bin/sh
cd "$PBS_O_WORKDIR"
echo cleaned > cleanup-ran
"""


def third_endpoint(world: Staging) -> tuple[str, Path]:
    root = world.run_dir.parent.parent / "ep3"
    (root / "b").mkdir(parents=True)
    (root / "b" / "more.txt").write_text("and more\n")
    return world.globus.emu.add_endpoint(root, display_name="third"), root


def scripts(world: Staging) -> None:
    for name, text in (("prep.sh", PREP), ("sim.sh", SIM), ("fail.sh", FAIL),
                       ("cleanup.sh", CLEANUP)):
        (world.run_dir / name).write_text(text)
        (world.run_dir / name).chmod(0o755)


def graph(world: Staging, ep3: str, **changes: Any) -> dict[str, Any]:
    src, dst = world.src, world.dst
    steps: dict[str, Any] = {
        "in-a": {"transfer": {"from": f"{src}:/in/", "to": f"{dst}:/run/in/"}},
        "in-b": {"transfer": {"from": f"{ep3}:/b/", "to": f"{dst}:/run/b/"}},
        "prep": {"job": "prep.sh", "after": ["in-a", "in-b"]},
        "sim": {"job": "sim.sh", "after": ["prep"]},
        "out": {"transfer": {"from": f"{dst}:/run/out/", "to": f"{src}:/results/"},
                "after": ["sim"]},
        "share": {"transfer": {"from": f"{dst}:/run/out/", "to": f"{ep3}:/shared/"},
                  "after": ["sim"]},
    }
    for name, step in changes.pop("steps", {}).items():
        steps[name] = {**steps.get(name, {}), **step}
    return {"name": "run-42", "steps": steps, "on_failure": {"job": "cleanup.sh"},
            "email": "me@example.org", **changes}


def submit(world: Staging, spec: dict[str, Any]) -> str:
    path = world.run_dir / "wf.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = world.cli("stage", "submit", "--json", "-f", str(path))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["workflow"]


def steps(world: Staging, wf: str) -> dict[str, dict[str, Any]]:
    return dict(world.workflow(wf).progress["steps"])


def status(world: Staging, wf: str) -> dict[str, str]:
    return {name: entry["status"] for name, entry in steps(world, wf).items()}
