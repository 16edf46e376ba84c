"""A staging world for end-to-end tests: PBS simulator, Globus emulator, SMTP sink, a service
with the staging rules, and `watcher stage submit` run through the real CLI.

The "cluster" is the destination endpoint's directory: the stage-in copies `in/` there, the
compute job runs in `<dst>/run` and writes `out/`, and the stage-out copies `out/` back to the
source endpoint under `results/`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlmodel import select

from tests.globus._world import Globus, emu, globus
from tests.service.conftest import cycle_until, make_service, sim
from watcher.cli import cli
from watcher.config import PbsSettings, Settings, StoreSettings
from watcher.mail.sink import SmtpSink
from watcher.service.service import Service
from watcher.sim.pbs.testing import PbsSim
from watcher.store.models import Workflow, WorkflowLog

COMPUTE = """#!/bin/sh
cd "$PBS_O_WORKDIR"
mkdir -p out
tr a-z A-Z < in/data.txt > out/result.txt
"""
CLEANUP = """#!/bin/sh
cd "$PBS_O_WORKDIR"
echo cleaned > cleanup-ran
"""


@dataclass
class Staging:
    """Everything a staging scenario touches."""

    sim: PbsSim
    globus: Globus
    sink: SmtpSink
    service: Service
    settings: Settings
    config: Path
    run_dir: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def src(self) -> str:
        return self.globus.src

    @property
    def dst(self) -> str:
        return self.globus.dst

    def cli(self, *args: str) -> Result:
        """`watcher ARGS --config <world's config>` in the run directory (`--db` for
        `history`, which reads only the store)."""
        self.monkeypatch.chdir(self.run_dir)
        where = (["--db", self.settings.store.url] if args[0] == "history"
                 else ["--config", str(self.config)])
        command = [*args[:2], *where, *args[2:]]
        return CliRunner().invoke(cli, command, catch_exceptions=False)

    def submit(self, *args: str, script: str = "compute.sh", qsub: tuple[str, ...] = ()) -> str:
        """`watcher stage submit` with the usual stage-out and cleanup; `qsub` goes after --."""
        result = self.cli("stage", "submit", "--json", "--cleanup", "cleanup.sh",
                          "--stage-out", f"{self.dst}:/run/out/", f"{self.src}:/results/",
                          *args, script, *(("--", *qsub) if qsub else ()))
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["workflow"]

    def stage_in_args(self) -> list[str]:
        return ["--stage-in", f"{self.src}:/in/", f"{self.dst}:/run/in/"]

    def cycle_until(self, check: Callable[[], bool], timeout: float = 15.0) -> None:
        cycle_until(self.service, check, timeout)

    def workflow(self, workflow_id: str) -> Workflow:
        with self.service.store.session(write=False) as session:
            found = session.get(Workflow, workflow_id)
        assert found is not None
        return found

    def log(self, workflow_id: str) -> list[str]:
        with self.service.store.session(write=False) as session:
            rows = session.exec(select(WorkflowLog).where(
                WorkflowLog.workflow_id == workflow_id).order_by(WorkflowLog.id)).all()
        return [f"{row.step}: {row.text}" for row in rows]

    def subjects(self) -> list[str]:
        return [m.message["Subject"] for m in self.sink.messages]

    def job_state(self, job_id: str) -> str | None:
        job = self.sim.qstat_json(job_id).get("Jobs", {}).get(job_id)
        return None if job is None else job["job_state"]


def write_config(settings: Settings, path: Path) -> Path:
    """The settings as a config.yaml the CLI reads with `--config`."""
    data = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    path.write_text(yaml.safe_dump(data))
    return path


def make_world(tmp_path: Path, sim: PbsSim, globus: Globus, sink: SmtpSink,
               settings: Settings, make_service: Callable[..., Service],
               monkeypatch: pytest.MonkeyPatch) -> Staging:
    inputs = globus.src_dir / "in"
    inputs.mkdir(parents=True)
    (inputs / "data.txt").write_text("hello staging\n")
    run_dir = tmp_path / "dst" / "run"
    run_dir.mkdir(parents=True)
    for name, text in (("compute.sh", COMPUTE), ("cleanup.sh", CLEANUP)):
        (run_dir / name).write_text(text)
        (run_dir / name).chmod(0o755)
    service = make_service("rules: []\n")
    config = write_config(settings, tmp_path / "config.yaml")
    return Staging(sim, globus, sink, service, settings, config, run_dir, monkeypatch)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, sim: PbsSim, globus: Globus, sink: SmtpSink) -> Settings:
    return Settings(pbs=PbsSettings(bin_dir=sim.bin_dir, down_after=2),
                    store=StoreSettings(url=f"sqlite:///{tmp_path / 'watcher.db'}"),
                    globus=globus.settings, smtp=sink.settings(), user_email="me@example.org")


@pytest.fixture
def world(tmp_path: Path, sim: PbsSim, globus: Globus, sink: SmtpSink, settings: Settings,
          make_service: Callable[..., Service], monkeypatch: pytest.MonkeyPatch) -> Staging:
    return make_world(tmp_path, sim, globus, sink, settings, make_service, monkeypatch)


FIXTURES = (emu, globus, sim, make_service, sink, settings, world)
