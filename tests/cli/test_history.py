"""`watcher history` prints firings and their actions as a table or JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from tests.ledger._helpers import LEASE, T0, fire
from watcher.actions.base import Outcome
from watcher.cli import cli
from watcher.ledger.outbox import RetryPolicy, claim, record
from watcher.store.db import Store


def _history(store: Store) -> None:
    fire(store, "release", "12.sim", T0, actions=("qrls", "qdel"),
         previous={"state": "Q"}, current={"state": "R"})
    fire(store, "kill", "13.sim", T0 + timedelta(minutes=1), actions=("qdel",),
         previous={"state": "R"}, current={"state": "R", "substate": 54}, reason="for: 30m")
    outcomes = {
        "release": Outcome.done("ok"),
        "kill": Outcome.failed("qrls -> exit 255: cannot connect", retryable=True),
    }
    now = T0 + timedelta(minutes=1)
    for intent in claim(store, owner="w", now=now, lease=LEASE, limit=10):  # the first steps
        record(store, intent.id, outcomes[intent.rule], owner="w", now=now,
               policy=RetryPolicy(jitter=0))
    [intent] = claim(store, owner="w", now=now, lease=LEASE, limit=10)  # release's second
    record(store, intent.id, Outcome.failed("qdel -> exit 159: Unauthorized Request",
                                            retryable=False), owner="w", now=now,
           policy=RetryPolicy())


def test_table_of_firings_newest_last(runner: CliRunner, store: Store, db_url: str) -> None:
    _history(store)
    result = runner.invoke(cli, ["history", "--db", db_url])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "12.sim Q→R" in out and "13.sim substate None→54" in out
    assert "0 qrls done" in out and "1 qdel dead: qdel -> exit 159: Unauthorized Request" in out
    assert "0 qdel pending, retry at 2025-05-01 08:01:02: qrls -> exit 255" in out
    assert "for: 30m" in out
    assert "2025-05-01 08:00:00" in out
    assert out.index("release") < out.index("kill")


def test_json_and_filters(runner: CliRunner, store: Store, db_url: str) -> None:
    _history(store)
    result = runner.invoke(cli, ["history", "--db", db_url, "--rule", "release", "--json"])
    assert result.exit_code == 0, result.output
    [firing] = json.loads(result.output)
    assert (firing["rule"], firing["subject"], firing["event"]) == ("release", "12.sim",
                                                                     "12.sim Q→R")
    assert firing["at"] == "2025-05-01T08:00:00+00:00"
    assert [(a["action"], a["status"], a["attempts"]) for a in firing["actions"]] == [
        ("qrls", "done", 1), ("qdel", "dead", 1)]
    result = runner.invoke(cli, ["history", "--db", db_url, "--subject", "99.sim"])
    assert result.output.strip() == "No firings recorded that match."


def test_default_database_comes_from_the_settings(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    _history(store)
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.yaml").write_text(f"store:\n  url: {db_url}\n")
    result = runner.invoke(cli, ["history", "--limit", "1", "--json"])
    assert [f["rule"] for f in json.loads(result.output)] == ["kill"]


def test_no_database_yet_is_not_an_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["history"])
    assert result.exit_code == 0
    assert result.output.strip() == (
        f"No history yet: {tmp_path / 'data' / 'watcher.db'} does not exist.")
    assert not (tmp_path / "data").exists()


def test_an_unusable_database_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_text("hello, this is not SQLite")
    result = runner.invoke(cli, ["history", "--db", f"sqlite:///{bad}"])
    assert result.exit_code == 1
    assert "cannot open the store at sqlite:///" in result.output
    assert "file is not a database" in result.output
