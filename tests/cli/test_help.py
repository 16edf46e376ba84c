"""`watcher --help` answers from the command table: it imports no command module, so it stays as
quick as click itself (the store, the engine and the Globus SDK take seconds to import)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from watcher.cli import COMMANDS, cli
from watcher.cli.rules import rules

ROOT = Path(__file__).resolve().parents[2]
# What printing the top-level help may import of watcher, and nothing heavier than click.
HELP_MODULES = {"watcher", "watcher.__main__", "watcher.cli", "watcher.cli._lazy",
                "watcher.cli.errors"}
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "globus_sdk", "rich", "jinja2", "apscheduler",
         "yaml", "aiosmtplib", "aiosmtpd")


def _imported(*args: str) -> set[str]:
    code = ("import runpy, sys\nsys.argv = ['watcher', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('watcher', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=True)
    assert "Usage: watcher" in done.stdout
    return set(done.stderr.split())


def test_the_top_level_help_imports_no_command_module():
    modules = _imported("--help")
    assert {m for m in modules if m.split(".")[0] == "watcher"} - HELP_MODULES == set()
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


def test_the_rules_help_imports_no_rule_code():
    modules = _imported("rules", "--help")
    assert {m for m in modules if m.split(".")[0] == "watcher"} - HELP_MODULES == {
        "watcher.cli.rules"}
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


@pytest.mark.parametrize("group", [cli, rules], ids=["watcher", "rules"])
def test_every_lazy_command_has_a_short_summary_and_loads(group: click.Group):
    ctx = click.Context(group)
    for name, entry in group._lazy.items():
        assert entry.summary and entry.summary.endswith(".") and len(entry.summary) <= 60, name
        command = group.get_command(ctx, name)
        assert isinstance(command, click.Command)
        assert command.short_help == entry.summary


def test_the_help_lists_every_command_with_its_summary():
    shown = click.testing.CliRunner().invoke(cli, ["--help"]).output
    for name, entry in COMMANDS.items():
        assert f"  {name}" in shown and entry.summary in shown
