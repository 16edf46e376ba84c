"""`watcher silence add|list|remove` against a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watcher.cli import cli
from watcher.engine.silences import load_silences

RULES = """rules:
  - {name: storm-1, when: {pbs_job: {state: F}}, do: [{qdel: {job: x}}]}
  - {name: storm, when: {pbs_job: {state: F}}, do: [{qdel: {job: x}}]}
  - {name: nightly, when: {pbs_job: {state: F}}, do: [{qdel: {job: x}}]}
  - {name: job-failed, when: {pbs_job: {state: F}}, do: [{qdel: {job: x}}]}
"""


@pytest.fixture(autouse=True)
def rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The rules directory the CLI reads by default (WATCHER_CONFIG_DIR/rules)."""
    path = tmp_path / "config" / "rules"
    path.mkdir(parents=True)
    (path / "rules.yaml").write_text(RULES)
    monkeypatch.setenv("WATCHER_CONFIG_DIR", str(tmp_path / "config"))
    return path


def silence(runner: CliRunner, db_url: str, *args: str) -> Result:
    return runner.invoke(cli, ["silence", *args, "--db", db_url])


@pytest.mark.parametrize(("rule", "message"), [
    ("job-faild", "Error: 'job-faild' is not a rule (did you mean 'job-failed'?); see 'watcher "
                  "rules list', or add --force to silence it anyway"),
    ("strom-*", "Error: 'strom-*' matches no rule; see 'watcher rules list', or add --force to "
                "silence it anyway"),
])
def test_add_refuses_an_unknown_rule(runner, db_url, store, rule, message):
    result = silence(runner, db_url, "add", rule, "--for", "1h")
    assert (result.exit_code, result.stderr.strip()) == (1, message)
    with store.session(write=False) as s:
        assert load_silences(s) == []


def test_add_takes_staging_rules_and_unknown_ones_with_force(runner, db_url):
    assert silence(runner, db_url, "add", "workflow-*", "--for", "1h").exit_code == 0
    forced = silence(runner, db_url, "add", "later-rule", "--for", "1h", "--force")
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize("words", ["2 hours", "90 minutes", "1 day", "1 hour 30 minutes"])
def test_add_takes_durations_in_words(runner, db_url, words):
    result = silence(runner, db_url, "add", "storm", "--for", words)
    assert result.exit_code == 0, result.output


def test_add_prints_the_id_and_stores_the_silence(runner, db_url, store):
    before = datetime.now(UTC)
    result = silence(runner, db_url, "add", "storm-*", "--for", "2h", "--subject", "1*.sim",
                     "--comment", "known outage")
    assert result.exit_code == 0, result.output
    silence_id = result.stdout.strip()
    assert "silenced 'storm-*' for '1*.sim' until" in result.stderr
    with store.session(write=False) as s:
        [stored] = load_silences(s)
    assert (stored.id, stored.rule, stored.subject, stored.comment) == (
        silence_id, "storm-*", "1*.sim", "known outage")
    assert before + timedelta(hours=2) - timedelta(seconds=1) <= stored.until
    assert stored.until <= datetime.now(UTC) + timedelta(hours=2)


@pytest.mark.parametrize(("args", "message"), [
    (["storm failed", "--for", "1h"], "expected a rule name or glob like 'storm-*' but got "
                                      "'storm failed'"),
    (["storm", "--for", "2x"], "expected a duration like '30s'"),
    (["storm"], "Missing option '--for'"),
])
def test_add_refuses_bad_input(runner, db_url, args, message):
    result = silence(runner, db_url, "add", *args)
    assert result.exit_code != 0 and message in result.output


def test_list_shows_silences_in_force_and_all_with_all(runner, db_url):
    kept = silence(runner, db_url, "add", "storm", "--for", "1h", "--comment", "outage").stdout
    ended = silence(runner, db_url, "add", "nightly", "--for", "1h").stdout.strip()
    assert silence(runner, db_url, "remove", ended).stdout == f"silence {ended} ended\n"
    table = silence(runner, db_url, "list")
    assert table.exit_code == 0 and kept.strip() in table.stdout and "outage" in table.stdout
    assert ended not in table.stdout
    everything = json.loads(silence(runner, db_url, "list", "--all", "--json").stdout)
    assert [(s["rule"], s["active"]) for s in everything] == [("storm", True),
                                                              ("nightly", False)]
    assert "ended" in silence(runner, db_url, "list", "--all").stdout


def test_remove_twice_and_an_unknown_id(runner, db_url):
    added = silence(runner, db_url, "add", "storm", "--for", "1h").stdout.strip()
    silence(runner, db_url, "remove", added)
    again = silence(runner, db_url, "remove", added)
    assert again.exit_code == 0 and "had already ended at" in again.stdout
    unknown = silence(runner, db_url, "remove", "nope")
    assert unknown.exit_code == 1
    assert "no silence 'nope' (see 'watcher silence list --all')" in unknown.output


def test_list_without_a_database_creates_none(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    assert silence(runner, url, "list").stdout == "No silences in force.\n"
    assert silence(runner, url, "list", "--json").stdout == "[]\n"
    assert not (tmp_path / "absent.db").exists()
