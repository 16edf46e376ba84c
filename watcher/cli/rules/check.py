"""`watcher rules check`: validate rule files, print every error, exit 1 if there is one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from watcher.cli.errors import WatcherError
from watcher.cli.rules._common import paths_argument, plural, resolve_paths
from watcher.rules.loader import RuleSet, load_rules


@click.command("check")
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too (rules that can never "
                                             "fire).")
def check(rule_paths: tuple[Path, ...], as_json: bool, strict: bool) -> None:
    """Validate rule files or directories (default: the rules directory) and report errors,
    and warnings for rules that can never fire (exit 0 on warnings alone, unless --strict)."""
    paths = resolve_paths(rule_paths)
    if not rule_paths and not paths[0].exists():
        raise WatcherError(f"no rules directory {paths[0]} (create it, or name rule files or "
                           "directories to check)")
    ruleset = load_rules(paths)
    if as_json:
        click.echo(json.dumps(_as_dict(ruleset), indent=2))
    else:
        found = sorted([*ruleset.errors, *ruleset.warnings],
                       key=lambda e: (str(e.path), e.line or 0, e.col or 0))
        for error in found:
            click.echo(str(error))
    if ruleset.errors:  # one line on stderr and exit 1, through the top-level handler
        raise WatcherError(_summary(ruleset))
    if strict and ruleset.warnings:
        raise WatcherError(f"{plural(len(ruleset.warnings), 'warning')} in "
                           f"{plural(len(ruleset.files), 'file')} (--strict)")
    if not as_json:
        click.echo(_summary(ruleset))


def _summary(ruleset: RuleSet) -> str:
    files = plural(len(ruleset.files), "file")
    warned = f", {plural(len(ruleset.warnings), 'warning')}" if ruleset.warnings else ""
    if ruleset.ok:
        return f"{files}, {plural(len(ruleset.rules), 'rule')} OK{warned}"
    bad = sum(not status.valid for status in ruleset.files.values())
    if not ruleset.files:  # a path that is not there: no file to count errors in
        return f"{plural(len(ruleset.errors), 'error')}"
    return f"{plural(len(ruleset.errors), 'error')} in {bad} of {files}{warned}"


def _as_dict(ruleset: RuleSet) -> dict[str, object]:
    return {
        "ok": ruleset.ok,
        "files": [{"path": str(s.path), "valid": s.valid, "errors": s.errors, "rules": s.rules,
                   "sha256": s.sha256} for s in ruleset.files.values()],
        "rules": [rule.name for rule in ruleset.rules],
        "errors": [error.to_dict() for error in ruleset.errors],
        "warnings": [warning.to_dict() for warning in ruleset.warnings],
    }
