"""End to end: a storm of failing jobs on the PBS simulator makes one email at a real SMTP
server; a silence makes none; `repeat_interval` holds back the next digest of the group."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from tests.service.conftest import cycle_until
from watcher.cli import cli
from watcher.config import Settings
from watcher.mail.sink import SmtpSink
from watcher.service.service import Service
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import open_store
from watcher.store.models import Firing, Intent

STORM = """
rules:
  - name: storm
    when: {pbs_job: {name: "storm-*", state: F, exit_status: "!= 0"}}
    do:
      - email: {to: ops@example.org, group_by: [rule], group_wait: 2s}
"""


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[PbsSim]:
    # A node per job, so a storm released at once ends at once (the shared fixture has 4).
    with PbsSim(tmp_path / "pbs", nodes=50) as sim:
        yield sim


@pytest.fixture
def sink(settings: Settings) -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        settings.smtp = running.settings()
        yield running


def storm(sim: PbsSim, tmp_path: Path, count: int, first: int = 0,
          service: Service | None = None) -> list[str]:
    """Submit `count` failing jobs held, then release them with one qrls: they fail together.

    With `service`, it polls once first, as a watcher already running would: its very first
    poll is the baseline, where jobs already finished are adopted without events, and a storm
    that ends before that poll has read its jobs would make no email at all.
    """
    if service is not None:
        asyncio.run(service.cycle())
    ids = [sim.qsub("exit 1\n", "-N", f"storm-{n}", "-h", cwd=tmp_path)
           for n in range(first, first + count)]
    released = sim.run("qrls", *ids)
    assert released.returncode == 0, released.stderr
    return ids


def intents(service: Service) -> list[Intent]:
    with service.store.session(write=False) as s:
        return list(s.exec(select(Intent).order_by(Intent.id)))


def items(intent: Intent) -> list[str]:
    return [item["subject"] for item in intent.params["digest"]["items"]]


def test_fifty_jobs_failing_together_make_one_email(sim, make_service, sink, tmp_path):
    service = make_service(STORM)
    ids = storm(sim, tmp_path, 50, service=service)
    cycle_until(service, lambda: len(sink.messages) == 1, timeout=30)
    for _ in range(3):  # nothing left to send
        asyncio.run(service.cycle())
    [got] = sink.messages
    assert got.message["Subject"] == "[watcher] 50 jobs: rule storm"
    body = got.message.get_content()
    assert all(f"job {job_id} (storm-" in body for job_id in ids)
    assert body.count("exit 1: the job script exited with 1") == 50
    [intent] = intents(service)
    assert intent.status == "done" and sorted(items(intent)) == sorted(ids)


def test_a_silenced_rule_sends_nothing_and_its_firings_show_why(
        sim, make_service, sink, settings, tmp_path):
    service = make_service(STORM)
    cli_runner = CliRunner()
    added = cli_runner.invoke(cli, ["silence", "add", "storm*", "--for", "1h", "--comment",
                                    "cluster upgrade", "--db", settings.store.url,
                                    "--rules", str(tmp_path / "rules")])
    assert added.exit_code == 0, added.output
    ids = storm(sim, tmp_path, 5, service=service)

    def silenced() -> list[Firing]:
        with service.store.session(write=False) as s:
            return list(s.exec(select(Firing).where(Firing.reason.startswith("silenced"))))

    cycle_until(service, lambda: len(silenced()) == 5)
    for _ in range(3):
        asyncio.run(service.cycle())
    assert sink.messages == [] and intents(service) == []
    history = cli_runner.invoke(cli, ["history", "--json", "--db", settings.store.url])
    lines = json.loads(history.stdout)
    assert sorted(line["subject"] for line in lines) == sorted(ids)
    assert all(line["reason"].endswith(f"by {added.stdout.strip()} (cluster upgrade)")
               and line["actions"] == [] for line in lines)


class Clock:
    """The service's clock, moved by the test: hours of repeat_interval pass at once."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_second_wave_within_repeat_interval_waits_for_one_later_email(
        sim, sink, settings, tmp_path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "storm.yaml").write_text(STORM.replace("2s}", "1s, repeat_interval: 1h}"))
    clock = Clock()
    store = open_store(settings.store.url)
    try:
        service = Service(settings, store, [rules_dir], now=clock)
        first_wave = storm(sim, tmp_path, 3, service=service)
        cycle_until(service, lambda: len(intents(service)) == 1
                    and len(items(intents(service)[0])) == 3)
        clock.now += timedelta(seconds=2)
        cycle_until(service, lambda: len(sink.messages) == 1)
        second_wave = storm(sim, tmp_path, 2, first=3)
        cycle_until(service, lambda: len(intents(service)) == 2
                    and len(items(intents(service)[1])) == 2)
        sent, waiting = intents(service)
        assert waiting.next_attempt_at == sent.updated_at + timedelta(hours=1)
        clock.now += timedelta(minutes=30)
        for _ in range(3):
            asyncio.run(service.cycle())
        assert len(sink.messages) == 1
        clock.now = sent.updated_at + timedelta(hours=1)
        cycle_until(service, lambda: len(sink.messages) == 2)
    finally:
        store.close()
    first, second = (m.message.get_content() for m in sink.messages)
    assert all(job_id in first for job_id in first_wave)
    assert all(job_id in second for job_id in second_wave)
    assert not any(job_id in second for job_id in first_wave)
