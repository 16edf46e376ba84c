"""The staging rules ship with watcher, load cleanly and join every service's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.rules.loader import load_rules
from watcher.service.rulebook import RuleBook
from watcher.service.staging_rules import STAGING_RULES, staging_rules, with_staging

REPO_COPY = Path(__file__).parents[2] / "rules" / "staging.yaml"


def test_the_packaged_file_loads_and_every_rule_says_what_it_does() -> None:
    ruleset = load_rules([STAGING_RULES])
    assert ruleset.errors == []
    assert [rule.name for rule in ruleset.rules] == [
        "workflow-job-ended", "workflow-transfer-ended", "workflow-transfer-inactive"]
    assert all(rule.name.startswith("workflow-") and rule.description
               for rule in ruleset.rules)


def test_the_repository_copy_is_the_packaged_file() -> None:
    assert REPO_COPY.read_bytes() == STAGING_RULES.read_bytes()


def test_user_rules_come_after_and_a_clashing_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "rules:\n"
        "  - {name: mine, when: {pbs_job: {state: F}}, do: [{qdel: {job: x}}]}\n")
    (tmp_path / "clash.yaml").write_text(
        "rules:\n"
        "  - {name: workflow-job-ended, when: {pbs_job: {state: F}}, do: [{qdel: {job: x}}]}\n")
    book = RuleBook([tmp_path])
    book.reload()
    rules = with_staging(book.rules)
    assert [rule.name for rule in rules] == [*(r.name for r in staging_rules()), "mine"]
    assert [error.message for state in book.files.values() for error in state.errors] == [
        "rule name 'workflow-job-ended' is reserved: a shipped staging rule (staging.yaml) "
        "has it, and a user rule of that name would not be in force (rename it)"]


def test_a_clashing_rule_built_in_code_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    clash = staging_rules()[0].model_copy(update={"source": None})
    assert with_staging([clash]) == list(staging_rules())
    assert "has the name of a staging rule and is not in force" in caplog.text
