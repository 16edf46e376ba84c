"""The staging rules ship with watcher, load cleanly and are in force in every service."""

from __future__ import annotations

from pathlib import Path

from watcher.rules.loader import load_rules
from watcher.service.rulebook import RuleBook
from watcher.workflows.rules import STAGING_RULES

REPO_COPY = Path(__file__).parents[2] / "rules" / "staging.yaml"


def test_the_packaged_file_loads_and_every_rule_says_what_it_does() -> None:
    ruleset = load_rules([STAGING_RULES])
    assert ruleset.errors == []
    assert len(ruleset.rules) == 13
    assert all(rule.name.startswith("workflow-") and rule.description
               for rule in ruleset.rules)


def test_the_repository_copy_is_the_packaged_file() -> None:
    assert REPO_COPY.read_bytes() == STAGING_RULES.read_bytes()


def test_a_copy_in_the_users_rules_clashes_and_the_packaged_rules_stay(tmp_path: Path) -> None:
    (tmp_path / "staging.yaml").write_bytes(STAGING_RULES.read_bytes())
    book = RuleBook([STAGING_RULES, tmp_path])
    book.reload()
    assert len(book.rules) == 13
    assert not book.files[tmp_path / "staging.yaml"].valid
