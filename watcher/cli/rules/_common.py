"""Helpers shared by the `watcher rules` commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from watcher import paths

# Files or directories of rules; none means the rules directory (`<config>/rules`).
paths_argument = click.argument("rule_paths", metavar="[PATHS]...", nargs=-1,
                                type=click.Path(path_type=Path))


def resolve_paths(given: Sequence[Path]) -> list[Path]:
    """The paths named on the command line, else the default rules directory."""
    return list(given) if given else [paths.rules_dir()]


def plural(count: int, word: str) -> str:
    """`1 file`, `3 files`."""
    return f"{count} {word}{'' if count == 1 else 's'}"
