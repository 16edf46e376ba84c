"""`watcher rules check`: validate rule files, print every error, exit 1 if there is one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from watcher.cli.errors import WatcherError
from watcher.cli.rules._common import paths_argument, plural, resolve_paths
from watcher.rules.loader import RuleSet, load_rules


@click.command("check", short_help="Validate rule files and print every error.")
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(rule_paths: tuple[Path, ...], as_json: bool) -> None:
    """Validate rule files or directories (default: the rules directory) and report errors."""
    ruleset = load_rules(resolve_paths(rule_paths))
    if as_json:
        click.echo(json.dumps(_as_dict(ruleset), indent=2))
    else:
        for error in ruleset.errors:
            click.echo(str(error))
    if ruleset.errors:  # one line on stderr and exit 1, through the top-level handler
        raise WatcherError(_summary(ruleset))
    if not as_json:
        click.echo(_summary(ruleset))


def _summary(ruleset: RuleSet) -> str:
    files = plural(len(ruleset.files), "file")
    if ruleset.ok:
        return f"{files}, {plural(len(ruleset.rules), 'rule')} OK"
    bad = sum(not status.valid for status in ruleset.files.values())
    return f"{plural(len(ruleset.errors), 'error')} in {bad} of {files}"


def _as_dict(ruleset: RuleSet) -> dict[str, object]:
    return {
        "ok": ruleset.ok,
        "files": [{"path": str(s.path), "valid": s.valid, "errors": s.errors, "rules": s.rules,
                   "sha256": s.sha256} for s in ruleset.files.values()],
        "rules": [rule.name for rule in ruleset.rules],
        "errors": [error.to_dict() for error in ruleset.errors],
    }
