"""After a bad edit the service keeps the file's last good version in force; `watcher status`
and `watcher rules list` must say so (not "invalid, not in force"), with since when and why."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from watcher.cli import cli

GOOD = """rules:
  - name: release-sim
    when: {pbs_job: {name: sim, state: H}}
    do: [{qrls: {job: "{{ job.id }}"}}]
"""
BROKEN = GOOD.replace("state: H", "stat: H")


def _cli(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_status_and_list_tell_the_last_good_version_is_in_force(make_service, settings,
                                                               tmp_path: Path) -> None:
    service = make_service({"mine.yaml": GOOD})
    service.record_rulebook()
    rules = tmp_path / "rules"
    (rules / "mine.yaml").write_text(BROKEN + "# edited\n")
    assert service.reload_rules()
    assert [rule.name for rule in service.rulebook.rules] == ["release-sim"]  # still in force

    db = ["--db", settings.store.url, "--rules", str(rules)]
    report = json.loads(_cli("status", "--json", *db))
    [row] = [r for r in report["rules_in_trouble"] if r["file"]]
    assert row["problem"].startswith("invalid since ")
    assert "; the last good version (loaded " in row["problem"]
    assert row["problem"].endswith(", 1 rule) stays in force: line 3: release-sim.when."
                                   "pbs_job.stat: unknown key 'stat' (did you mean 'state'?)")

    [item] = json.loads(_cli("rules", "list", "--json", *db))
    assert item["valid"] is False and "stays in force" in item["service"]

    (rules / "mine.yaml").write_text(BROKEN + "# edited again, the service has not seen it\n")
    report = json.loads(_cli("status", "--json", *db))
    [row] = [r for r in report["rules_in_trouble"] if r["file"]]
    assert row["problem"].startswith("invalid, not loaded by the service yet: it still runs the "
                                     "version loaded ")


def test_a_file_never_good_is_not_in_force(make_service, settings, tmp_path: Path) -> None:
    service = make_service({"mine.yaml": BROKEN})
    service.record_rulebook()
    db = ["--db", settings.store.url, "--rules", str(tmp_path / "rules")]
    report = json.loads(_cli("status", "--json", *db))
    [row] = [r for r in report["rules_in_trouble"] if r["file"]]
    assert row["problem"].startswith("invalid, not in force: line 3:")
