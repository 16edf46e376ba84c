"""README.md tells the truth: its reference covers every trigger, condition, action and command
the code has, and its two commands are the ones CI runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click
import yaml

from watcher.actions import ACTIONS
from watcher.cli import cli
from watcher.config import Settings
from watcher.rules.conditions import CONDITIONS
from watcher.triggers import TRIGGERS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _command_paths(group: click.Group, prefix: str = "watcher") -> list[str]:
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        if isinstance(command, click.Group) and prefix == "watcher":
            paths += _command_paths(command, path)
        else:
            paths.append(path)
    return paths


def test_every_trigger_condition_and_action_is_documented():
    missing = [f"`{name}`" for name in [*TRIGGERS, *CONDITIONS, *ACTIONS]
               if f"`{name}`" not in README]
    assert missing == []


def test_every_action_parameter_is_documented():
    missing = [f"{name}.{field}" for name, action in ACTIONS.items()
               for field, info in action.params.model_fields.items()
               if field != "digest" and f"`{field}" not in README]  # digest: engine-filled
    assert missing == []


def test_every_command_is_in_the_cli_reference():
    missing = [path for path in _command_paths(cli)
               if path.split(" ", 2)[1] != "sim" and f"`{path}" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    assert "    python -m pytest -q\n" in README
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_the_quickstart_settings_file_is_valid():
    start = README.index("   ```yaml\n   user_email")
    block = README[start + len("   ```yaml\n"):README.index("   ```\n", start + 10)]
    settings = Settings.model_validate(yaml.safe_load(textwrap.dedent(block)))
    assert settings.store.retention is not None and settings.store.retention.days == 30
