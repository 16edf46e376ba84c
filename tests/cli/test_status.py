"""`watcher status`: sources, rules in trouble, dead intents, open windows, intent counts."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watcher.actions.base import Outcome
from watcher.cli import cli
from watcher.engine.engine import Engine
from watcher.events import PBS_JOB, Event
from watcher.ledger.outbox import RetryPolicy, claim, record
from watcher.rules.loader import load_rules
from watcher.service.instance import Presence
from watcher.sources.base import Observation
from watcher.state.source import SourceState
from watcher.store.db import Store, open_store
from watcher.store.models import SourceLease

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)

RULES = """\
rules:
  - name: kill-on-abort
    when: {pbs_job: {substate: 54}}
    do: [{qdel: {job: "{{ job.id }}"}}]
  - name: held-too-long
    when: {pbs_job: {state: H}}
    for: 30m
    do: [{qrls: {job: "{{ job.id }}"}}]
"""


def job(state: str, job_id: str, substate: int | None = None) -> dict[str, object]:
    return {"id": job_id, "name": "sim", "owner": "alice", "queue": "workq", "state": state,
            "substate": substate, "exit_status": None, "hold_types": "n", "comment": "",
            "run_count": 0, "variables": {}}


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "pbs.yaml").write_text(RULES)
    return rules


def populate(store: Store, rules_dir: Path) -> None:
    """A qdel PBS refused for good, a window held open, and PBS down for three polls."""
    engine = Engine(load_rules([rules_dir]).rules)
    events = [Event(PBS_JOB, "7.pbs", T0, "changed", job("R", "7.pbs", 42),
                    job("R", "7.pbs", 54)),
              Event(PBS_JOB, "8.pbs", T0, "changed", job("Q", "8.pbs"), job("H", "8.pbs"))]
    with store.session() as session:
        engine.process(session, events, T0)
    [intent] = claim(store, owner="w", now=T0, lease=timedelta(minutes=5), limit=10)
    record(store, intent.id, Outcome.failed("qdel: Unauthorized Request [159]",
                                            retryable=False),
           owner="w", now=T0 + timedelta(seconds=1), policy=RetryPolicy())
    with store.session() as session:
        memory = SourceState("pbs", PBS_JOB, session)
    for n in range(3):
        at = T0 + timedelta(minutes=n)
        with store.session() as session:
            failed = Observation.failed("pbs", at, "qstat: cannot connect to server pbs1")
            engine.process(session, memory.apply(session, failed, down_after=3, now=at), at)


def status(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(cli, ["status", *map(str, args)], env={"COLUMNS": "300"})


def test_a_dead_intent_and_a_down_source_are_reported(
        runner: CliRunner, rules_dir: Path, db_url: str) -> None:
    store = open_store(db_url)
    try:
        populate(store, rules_dir)
    finally:
        store.close()
    result = status(runner, "--rules", rules_dir, "--db", db_url)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.strip("│ ").split()) for line in result.output.splitlines()]
    assert "pbs │ no │ 3 │ - │ qstat: cannot connect to server pbs1" in lines
    assert "kill-on-abort │ 1 dead intent" in lines
    assert ("kill-on-abort │ qdel │ 7.pbs │ 1 │ qdel: Unauthorized Request [159] │ "
            "2026-01-05 08:00:01") in lines
    assert "held-too-long │ 8.pbs │ 2026-01-05 08:00:00 │ 2026-01-05 08:30:00" in lines
    assert "dead │ 1" in lines and "pending │ 0" in lines and "done │ 0" in lines


def test_json_has_one_key_per_section(runner: CliRunner, rules_dir: Path, db_url: str) -> None:
    store = open_store(db_url)
    try:
        populate(store, rules_dir)
    finally:
        store.close()
    (rules_dir / "broken.yaml").write_text(
        "rules:\n  - name: x\n    when: {pbs_jb: {}}\n    do: [{qdel: {job: '1'}}]\n")
    report = json.loads(status(runner, "--rules", rules_dir, "--db", db_url, "--json").output)
    assert list(report) == ["sources", "instances", "credentials", "rules_in_trouble",
                            "dead_intents", "pending_windows", "intents", "workflows"]
    [pbs] = report["sources"]
    assert (pbs["healthy"], pbs["failures"], pbs["down_reported"]) == (False, 3, True)
    assert [(r["rule"], r["file"], r["line"]) for r in report["rules_in_trouble"]] == [
        (None, str(rules_dir / "broken.yaml"), 3), ("kill-on-abort", None, None)]
    assert report["rules_in_trouble"][0]["problem"].startswith(
        "invalid, not in force: line 3: x.when.pbs_jb: expected one of pbs_job")
    [dead] = report["dead_intents"]
    assert (dead["rule"], dead["action"], dead["subject"], dead["attempts"], dead["at"]) == (
        "kill-on-abort", "qdel", "7.pbs", 1, "2026-01-05T08:00:01+00:00")
    assert report["pending_windows"] == [{"rule": "held-too-long", "subject": "8.pbs",
                                          "since": "2026-01-05T08:00:00+00:00",
                                          "due": "2026-01-05T08:30:00+00:00"}]
    assert {row["status"]: row["count"] for row in report["intents"]}["dead"] == 1


def test_before_the_first_run_there_is_no_store_and_none_is_made(
        runner: CliRunner, rules_dir: Path, tmp_path: Path) -> None:
    result = status(runner, "--rules", rules_dir)
    assert result.exit_code == 0, result.output
    db = tmp_path / "data" / "watcher.db"
    lines = result.output.splitlines()
    credentials = [line.strip() for line in lines].index("Globus credentials")
    assert "not logged in" in lines[credentials + 4] and "watcher login" in lines[credentials + 4]
    del lines[credentials:credentials + 6]  # the title and the table's five lines
    assert lines == [
        f"No store yet: {db} does not exist (has the watcher run?).",
        "Sources: unknown (no store)",
        "Instances: unknown (no store)",
        "Rules in trouble: none",
        "Dead intents: unknown (no store)",
        "Pending for: windows: unknown (no store)",
        "Intents by status: unknown (no store)",
        "Workflows: unknown (no store)",
    ]
    assert not db.parent.exists()


def test_instances_with_the_sources_they_poll_and_their_heartbeat(
        runner: CliRunner, rules_dir: Path, db_url: str) -> None:
    """One instance polls what it lists (SQLite: everything); another holds a source lease
    (PostgreSQL) that has not run out; a lease that ran out is nobody's source any more."""
    now = datetime.now(UTC)
    store = open_store(db_url)
    try:
        Presence(store, "login1:100:a", timedelta(seconds=30), lambda: now).start(["quota"])
        Presence(store, "login2:200:b", timedelta(seconds=30),
                 lambda: now - timedelta(seconds=4)).start([])
        with store.session() as session:
            session.add(SourceLease(source="pbs", owner="login2:200:b",
                                    until=now + timedelta(seconds=40)))
            session.add(SourceLease(source="globus", owner="login2:200:b",
                                    until=now - timedelta(seconds=1)))
    finally:
        store.close()
    report = json.loads(status(runner, "--rules", rules_dir, "--db", db_url, "--json").output)
    rows = {row["instance"]: row for row in report["instances"]}
    assert {name: (row["host"], row["pid"], row["sources"]) for name, row in rows.items()} == {
        "login1:100:a": (socket.gethostname(), os.getpid(), ["quota"]),
        "login2:200:b": (socket.gethostname(), os.getpid(), ["pbs"])}
    assert 4 <= rows["login2:200:b"]["heartbeat_age"] < 10
    lines = [" ".join(line.strip("│ ").split())
             for line in status(runner, "--rules", rules_dir, "--db", db_url).output.splitlines()]
    assert any(line.startswith("login2:200:b │ pbs │ ") for line in lines), lines
