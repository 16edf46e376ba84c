"""Every known way qstat misbehaves, fed to the whole service: no cycle raises, an outage is
never a change, and the rules still act once qstat answers well again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlmodel import select

from tests.sources.test_pbs import FakeQstat
from watcher.config import PbsSettings, Settings, StoreSettings
from watcher.events import VANISHED
from watcher.service.service import Service
from watcher.store.db import open_store
from watcher.store.models import DONE, EventRecord, Intent, SourceHealth

DATA = Path(__file__).parents[1] / "testdata" / "qstat"
RULE = """\
rules:
  - name: walltime
    when: {pbs_job: {exit_status: -29}}
    do: [{qrls: {job: "{{ job.id }}"}}]
"""
# What pbs-facts.md and the shared fixtures show qstat printing when it fails.
ERRORS = [
    ("", "Connection refused\nqstat: cannot connect to server pbs01 (errno=111)\n", 2),
    ("", "qstat: Server shutting down\n", 1),
    ("", "qstat: End of File\n", 255),
    ('{\n    "timestamp":1,\n    "pbs_version":"2022.1.3",\n    "pbs_server":"pbs01"\n}\n',
     "qstat: Unknown Job Id 99.pbs01\n", 153),
    ("", "qstat: 1301.pbs01 Job has finished, use -x or -H to obtain historical job info\n", 35),
    ("not json at all\n", "", 0),
    ("", "", 0),
]


def test_every_quirk_and_error_leaves_the_service_running(tmp_path: Path) -> None:
    qstat = FakeQstat(tmp_path)
    (qstat.bin / "qrls").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path / "qrls.log"}\n')
    (qstat.bin / "qrls").chmod(0o755)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(RULE)
    settings = Settings(pbs=PbsSettings(bin_dir=qstat.bin, watch="all", down_after=2,
                                        discovery="listing"),
                        store=StoreSettings(url=f"sqlite:///{tmp_path / 'w.db'}"))
    store = open_store(settings.store.url)
    try:
        service = Service(settings, store, [rules])
        documents = sorted(p for p in DATA.iterdir() if p.suffix in (".json", ".txt"))
        fixtures = sorted((DATA / "fixtures").glob("*.json"))
        assert len(documents) >= 19 and fixtures
        for path in [*documents, *fixtures]:
            qstat.answer(_stdout(path))
            asyncio.run(service.cycle())  # raises nothing
        with store.session(write=False) as session:
            vanished_before = _vanished(session)
        for stdout, stderr, code in ERRORS:
            qstat.answer(stdout, stderr, code)
            asyncio.run(service.cycle())
        with store.session(write=False) as session:
            health = session.get(SourceHealth, "pbs")
            assert health is not None and health.failures >= 2 and not health.healthy
            # Failed polls (and the one empty answer among them) made no job vanish.
            assert _vanished(session) == vanished_before

        base = json.loads((DATA / "exit_statuses.json").read_text())
        job = {**base["Jobs"]["1301.pbs01"], "Job_Name": "late"}
        base["Jobs"]["1399.pbs01"] = job  # a walltime kill seen once qstat answers again
        qstat.answer(json.dumps(base, indent=4))
        asyncio.run(service.cycle())
        with store.session(write=False) as session:
            assert session.get(SourceHealth, "pbs").healthy  # type: ignore[union-attr]
            fired = session.exec(select(Intent).where(Intent.rule == "walltime")).all()
        assert "1399.pbs01" in {i.params.get("job") for i in fired if i.status == DONE}
        assert "1399.pbs01" in (tmp_path / "qrls.log").read_text()
    finally:
        store.close()


def _stdout(path: Path) -> str:
    text = path.read_text()
    return json.loads(text)["stdout"] if path.name.endswith(".fixture.json") else text


def _vanished(session) -> int:  # type: ignore[no-untyped-def]
    return len(session.exec(select(EventRecord).where(EventRecord.change == VANISHED)).all())
