"""Three `watcher run` instances on one PostgreSQL store, SIGKILLed at random and restarted.

A kill is SIGUSR2 under `WATCHER_FAILPOINTS=on-sigusr2`: the instance SIGKILLs itself at once,
unless it is inside the one stretch no design makes safe (a mail server accepted a message the
journal does not know yet, see watcher/failpoints.py), and then the moment that stretch ends.

For over a minute jobs end (mails, qdels and transfers fall due), transfers finish (mails fall
due) while the test SIGKILLs a random instance at a random moment and starts it again at once.
Then the effects are counted where they land (SMTP sink, PBS accounting log, Globus emulator),
and every PBS call is logged by a wrapper in front of the simulator's commands: each `qstat`
is a poll's (this workload has no resubmit, whose tag lookup is a `qstat` too), as is each
`qselect` (two a poll), so with one poller per source there is at most one poll, and one `qstat`,
per poll interval, however many instances run.

Targets: 0 duplicated and 0 missing effects; every due action done within 30 s of the last kill;
at most one `qstat` per poll interval across the instances; no false `vanished`.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.globus import _world
from tests.globus._world import Globus
from tests.service._crash_harness import Run, WatcherRig, seen
from tests.service._crash_workload import Workload
from tests.service.test_crash import all_seen, assert_exactly_once, sim, sink
from tests.store import _postgres
from watcher.cli import cli
from watcher.mail.sink import SmtpSink
from watcher.sim.pbs.call_log import PbsCallLog
from watcher.sim.pbs.testing import PbsSim
from watcher.store.db import Store, open_store

emu, globus = _world.emu, _world.globus  # the Globus world's fixtures
__all__ = ["emu", "globus", "sim", "sink"]

INSTANCES = 3
INTERVAL = 1.0  # the poll interval, seconds
KILLING = 65.0  # seconds of kills
SETTLE = 3.0  # seconds of watching after the last effect: a duplicate would land
CRASH_ON_SIGNAL = "on-sigusr2"  # SIGUSR2 is a SIGKILL outside the mail shield


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(_postgres.new_database(_postgres.shared_admin_url(request.config)))
    yield opened
    opened.close()


@dataclass
class Campaign:
    """What happened: kills, and for each kill with effects owed, how long until the next."""

    kills: int = 0
    restarts: int = 0
    to_next_effect: list[float] = field(default_factory=list)
    after_last_kill: float = 0.0


def seen_total(workload: Workload) -> int:
    return sum(t.seen for t in workload.tallies())


def owed(workload: Workload) -> int:
    return sum(t.missing for t in workload.tallies())


def status_json(url: str, rules: Path) -> dict:
    result = CliRunner().invoke(cli, ["status", "--db", url, "--json", "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.slow
def test_three_instances_killed_at_random_lose_nothing_repeat_nothing_poll_once(
        tmp_path: Path, sim: PbsSim, sink: SmtpSink, globus: Globus, store: Store,
        capsys: pytest.CaptureFixture[str]) -> None:
    workload = Workload(sim, sink, tmp_path / "jobs", globus.emu,
                        (globus.src, globus.dst, globus.src_dir), resubmit=False,
                        moved_mail=True)
    calls = PbsCallLog(tmp_path / "pbs-logged", sim.bin_dir)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "crash.yaml").write_text(workload.rules())
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "pbs": {"bin_dir": str(calls.bin_dir), "poll_interval": INTERVAL, "min_poll_interval": 0,
                "down_after": 20},
        "smtp": sink.settings().model_dump(mode="json", by_alias=True),
        "globus": globus.settings.model_dump(mode="json") | {"poll_interval": INTERVAL,
                                                             "endpoint_interval": 30},
        "store": {"url": str(store.engine.url), "lease": "5s", "heartbeat": "1s"},
        "user_email": "ops@example.org",
    }))
    rig = WatcherRig(tmp_path, config, rules, store, globus.emu.env, interval=INTERVAL)
    rng = random.Random(12)
    campaign = Campaign()
    try:
        first = workload.first_job()
        runs: list[Run] = [rig.start(CRASH_ON_SIGNAL) for _ in range(INSTANCES)]
        deadline = time.monotonic() + 60
        while not seen(store, first):  # the first look is taken before any job ends
            assert time.monotonic() < deadline, runs[0].tail()
            time.sleep(0.1)
        began = time.time()
        stop_killing = time.monotonic() + KILLING
        waiting: list[tuple[float, int]] = []  # (kill time, effects seen then) while owed
        while time.monotonic() < stop_killing:
            if owed(workload) < 8:
                workload.wave()
            next_kill = time.monotonic() + rng.uniform(0.3, 2.5)
            while time.monotonic() < next_kill:
                total = seen_total(workload)
                campaign.to_next_effect += [time.monotonic() - at for at, before in waiting
                                            if total > before]
                waiting = [(at, before) for at, before in waiting if total <= before]
                time.sleep(0.1)
            victim = rng.randrange(INSTANCES)
            os.kill(runs[victim].pid, signal.SIGUSR2)
            runs[victim].proc.wait()
            campaign.kills += 1
            if owed(workload):
                waiting.append((time.monotonic(), seen_total(workload)))
            runs[victim] = rig.start(CRASH_ON_SIGNAL)
            campaign.restarts += 1
        last_kill = time.monotonic()
        while not all_seen(workload, store):
            assert time.monotonic() - last_kill < 60, [t for t in workload.tallies()]
            time.sleep(0.1)
        campaign.after_last_kill = time.monotonic() - last_kill
        campaign.to_next_effect += [time.monotonic() - at for at, _ in waiting]
        time.sleep(SETTLE)
        ended = time.time()
        report = status_json(str(store.engine.url), rules)
        while len(report["instances"]) < INSTANCES:  # the last restart may still be importing
            assert time.monotonic() - last_kill < 90, report["instances"]
            time.sleep(0.5)
            report = status_json(str(store.engine.url), rules)
        for run in runs:
            rig.stop(run)
        exits = [run.proc.returncode for run in runs]
    finally:
        rig.close()
    tallies = workload.tallies()
    polls = calls.times("qstat", began, ended)
    # The qselect source asks two questions a poll (my jobs; changed since), each a qselect.
    selects = calls.times("qselect", began, ended)
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    intervals = (ended - began) / INTERVAL
    busiest = max(sum(1 for t in polls if start <= t < start + INTERVAL) for start in polls)
    line = (f"shared crash campaign: {INSTANCES} instances, {campaign.kills} kills, "
            f"{campaign.restarts} restarts, effects expected {sum(t.expected for t in tallies)} "
            f"seen {sum(t.seen for t in tallies)} duplicated "
            f"{sum(t.duplicated for t in tallies)} missing {sum(t.missing for t in tallies)} ("
            + "; ".join(f"{t.kind} {t.seen}/{t.expected} dup {t.duplicated} stray "
                        f"{t.unexpected}" for t in tallies)
            + f"); all done {campaign.after_last_kill:.1f}s after the last kill; worst kill to "
            f"next effect {max(campaign.to_next_effect, default=0):.1f}s; {len(polls)} qstat in "
            f"{intervals:.0f} intervals ({len(polls) / intervals:.2f} per interval, at most "
            f"{busiest} in any {INTERVAL:g}s, closest two {min(gaps, default=0):.2f}s apart); "
            f"{len(selects)} qselect ({len(selects) / 2 / intervals:.2f} polls per interval)")
    with capsys.disabled():
        print(f"\n{line}")
    assert_exactly_once(workload, store, tallies)
    assert campaign.after_last_kill <= 30, line
    assert len(polls) <= intervals + 1, line
    assert len(selects) <= 2 * (intervals + 1), line
    assert exits == [0] * INSTANCES, line  # SIGTERM: a clean stop each
    instances = report["instances"]
    assert len(instances) == INSTANCES, instances
    holders = [row["instance"] for row in instances if "pbs" in row["sources"]]
    assert len(holders) == 1, instances
