"""`watcher rules list` shows each rule, where it is written, and what the store says it does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watcher.cli import cli
from watcher.engine.engine import Engine
from watcher.events import PBS_JOB, Event
from watcher.rules.loader import load_rules
from watcher.store.db import open_store

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)

RULES = """\
rules:
  - name: release
    when: {pbs_job: {name: stage-in, state: F, exit_status: 0}}
    do: [{qrls: {job: "13.pbs"}}]
  - name: held-too-long
    when: {pbs_job: {state: H}}
    for: 30m
    conditions: [{subject: {queue: workq}}]
    do: [{qdel: {job: "{{ job.id }}"}}]
  - name: quiet
    enabled: false
    when: {pbs_job: {state: [R, E]}}
    once: true
    do: [{qhold: {job: "{{ job.id }}"}}]
"""


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def job(state: str, job_id: str, **extra: object) -> dict[str, object]:
    return {"id": job_id, "name": "stage-in", "owner": "alice", "queue": "workq",
            "state": state, "substate": None, "exit_status": None, "hold_types": "n",
            "comment": "", "run_count": 0, "variables": {}, **extra}


def run_engine(rules_file: Path, db_url: str) -> None:
    """What a running watcher leaves in the store: two open windows and one firing."""
    engine = Engine(load_rules([rules_file]).rules)
    store = open_store(db_url)
    later = T0 + timedelta(minutes=5)
    events = [Event(PBS_JOB, "5.pbs", T0, "changed", job("Q", "5.pbs"), job("H", "5.pbs")),
              Event(PBS_JOB, "6.pbs", later, "changed", job("Q", "6.pbs"), job("H", "6.pbs")),
              Event(PBS_JOB, "12.pbs", later, "changed", job("R", "12.pbs"),
                    job("F", "12.pbs", exit_status=0))]
    try:
        for event in events:
            with store.session() as session:
                engine.process(session, [event], event.at)
    finally:
        store.close()


def rules_list(runner: CliRunner, *args: str | Path) -> Result:
    # Wide enough that no cell folds, whatever the length of the temporary paths.
    return runner.invoke(cli, ["rules", "list", *map(str, args)], env={"COLUMNS": "500"})


def test_without_a_store_the_rules_are_listed_and_no_store_is_made(
        runner: CliRunner, rules_file: Path, tmp_path: Path) -> None:
    result = rules_list(runner, "--rules", rules_file)
    assert result.exit_code == 0, result.output
    assert "held-too-long" in result.output and f"{rules_file}:5" in result.output
    assert "pbs_job(state=H)" in result.output and "for: 30m" in result.output
    assert "if subject(queue=workq)" in result.output
    assert "pbs_job(state=[R, E])" in result.output  # brackets are text, not markup
    assert "State" not in result.output and "Fired" not in result.output
    assert not (tmp_path / "data").exists()
    [quiet] = [i for i in json.loads(rules_list(runner, "--rules", rules_file, "--json").output)
               if i["name"] == "quiet"]
    assert (quiet["enabled"], quiet["limits"], quiet["state"], quiet["fire_count"]) == (
        False, ["once"], None, None)


def test_with_a_store_each_rule_shows_its_state_and_firings(
        runner: CliRunner, rules_file: Path, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    run_engine(rules_file, db_url)
    result = rules_list(runner, "--rules", rules_file, "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "pending: for: 30m window since 2026-01-05 08:00:00 (2 subjects)" in result.output
    assert "in condition: 1 subject" in result.output
    assert "2026-01-05 08:05:00" in result.output  # release last fired
    items = {i["name"]: i for i in json.loads(
        rules_list(runner, "--rules", rules_file, "--db", db_url, "--json").output)}
    release, held, quiet = items["release"], items["held-too-long"], items["quiet"]
    assert (release["fire_count"], release["last_fired_at"], release["in_condition"]) == (
        1, "2026-01-05T08:05:00+00:00", 1)
    assert (held["pending"], held["pending_since"], held["fire_count"]) == (
        2, "2026-01-05T08:00:00+00:00", 0)
    assert (quiet["state"], quiet["fire_count"]) == ("disabled", 0)
    assert release["file"] == str(rules_file) and release["line"] == 2


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """A rule file with two errors, the first on line 3."""
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - name: x\n    when: {pbs_job: {stat: R}}\n    do: [{qrel: {}}]\n")
    return path


@pytest.fixture
def db_url(rules_file: Path, tmp_path: Path) -> str:
    """A store as a running watcher leaves it (`run_engine`)."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    run_engine(rules_file, url)
    return url


def test_an_invalid_file_is_a_row_with_its_first_error(
        runner: CliRunner, rules_file: Path, bad: Path, db_url: str) -> None:
    result = rules_list(runner, "--rules", rules_file, "--rules", bad, "--db", db_url)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "invalid file" in line)
    assert f"{bad}:3" in row and "x.when.pbs_job.stat: unknown key" in row
    assert "not in force" in row
    assert "(+1 more)" in result.output
    items = json.loads(rules_list(runner, "--rules", bad, "--json").output)
    assert [(i["valid"], i["file"], i["line"]) for i in items] == [(False, str(bad), 3)]
    assert [e["field_path"] for e in items[0]["errors"]] == ["x.when.pbs_job.stat", "x.do[0].qrel"]


def test_no_rules_at_all(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = rules_list(runner, "--rules", tmp_path / "empty")
    assert (result.exit_code, result.output) == (0, "No rules.\n")


def test_a_narrow_terminal_gets_one_block_a_rule_with_every_line_whole(
        runner: CliRunner, rules_file: Path, bad: Path, db_url: str) -> None:
    result = runner.invoke(cli, ["rules", "list", "--rules", str(rules_file), "--rules",
                                 str(bad), "--db", db_url], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "release  " in lines[0] and "(enabled, in condition: 1 subject, fired 1, last " \
        "2026-01-05 08:05:00 UTC)" in lines[0]
    assert lines[1:3] == ["  when pbs_job(name=stage-in, state=F, exit_status=0)",
                          "  do   qrls(job=13.pbs)"]
    block = lines[lines.index(next(ln for ln in lines if ln.startswith("held-too-long"))):]
    assert block[1:5] == ["  when pbs_job(state=H)", "       for: 30m",
                          "  if   subject(queue=workq)", "  do   qdel(job={{ job.id }})"]
    assert any(ln.startswith("quiet") and ln.endswith("(disabled, fired 0)") for ln in lines)
    assert any(ln.startswith("invalid file") and f"{bad}:3" in ln for ln in lines)
    # Names and paths stay whole (users copy them); when/if/do lines are cut to the width.
    assert all(len(line) <= 80 for line in lines if line.startswith(("  when", "  if", "  do")))
