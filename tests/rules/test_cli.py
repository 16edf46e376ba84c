"""`watcher rules check` and `watcher rules schema` as users run them.

(The CLI lives in watcher/cli/rules/; its tests sit here with the rest of the rule language.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.actions import ACTIONS
from watcher.cli import cli

TESTDATA = Path(__file__).parent.parent / "testdata" / "rules"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["rules", *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_valid_directory() -> None:
    assert run("check", str(TESTDATA / "valid")) == (0, "2 files, 5 rules OK\n", "")


def test_check_single_file_singular_summary() -> None:
    code, out, _ = run("check", str(TESTDATA / "mixed" / "4-good.yaml"))
    assert (code, out) == (0, "1 file, 1 rule OK\n")


def test_check_prints_every_error_and_exits_1() -> None:
    mixed = TESTDATA / "mixed"
    code, out, err = run("check", str(mixed))
    assert code == 1
    assert out.splitlines() == [
        f"{mixed}/2-bad.yaml:7:17: broken-rule.when.pbs_job.stat: unknown key 'stat' "
        "(did you mean 'state'?)",
        f"{mixed}/2-bad.yaml:9:9: broken-rule.do[0].qrel: expected one of "
        f"{', '.join(ACTIONS)} but got 'qrel' (did you mean 'qrls'?)",
        f"{mixed}/3-dup.yaml:5:11: shared-name.name: duplicate rule name 'shared-name' "
        f"(first defined at {mixed}/1-good.yaml:2)",
    ]
    assert err == "Error: 3 errors in 2 of 4 files\n"


def test_check_json() -> None:
    code, out, _ = run("check", "--json", str(TESTDATA / "mixed"))
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["rules"] == ["shared-name", "last-rule"]
    assert [(Path(f["path"]).name, f["valid"], f["errors"]) for f in report["files"]] == [
        ("1-good.yaml", True, 0), ("2-bad.yaml", False, 2), ("3-dup.yaml", False, 1),
        ("4-good.yaml", True, 0)]
    assert report["errors"][0] == {
        "path": str(TESTDATA / "mixed" / "2-bad.yaml"), "line": 7, "col": 17,
        "field_path": "broken-rule.when.pbs_job.stat",
        "message": "unknown key 'stat' (did you mean 'state'?)", "severity": "error"}


def test_check_json_ok() -> None:
    code, out, _ = run("check", "--json", str(TESTDATA / "valid"))
    assert code == 0 and json.loads(out)["ok"] is True


def test_check_defaults_to_the_rules_directory(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_CONFIG_DIR", str(tmp_path))
    code, out, err = run("check")
    assert (code, out) == (1, "")
    assert err == (f"Error: no rules directory {tmp_path}/rules (create it, or name rule files "
                   "or directories to check)\n")
    shutil.copytree(TESTDATA / "valid", tmp_path / "rules")
    assert run("check") == (0, "2 files, 5 rules OK\n", "")


def test_schema_prints_json_schema() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "pbs_job" in json.dumps(schema["$defs"]["Trigger"])


def test_help_texts() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "check   Validate rule files and print every error." in out
    assert "schema  Print the JSON Schema of rule files." in out
