"""A click group whose subcommands are imported only when used, so `watcher --help` stays fast
and one broken optional dependency cannot take down unrelated commands.

Each subcommand is declared as `"module.path:attribute"` plus its one-line summary, the way pip
declares its commands: the group's help lists the summaries without importing any command
module (they import the store, the engine, the Globus SDK), and a loaded command takes its
`short_help` from the same entry, so the summary is written once.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class Lazy:
    """Where a subcommand lives and what the group's help says about it."""

    target: str  # "module.path:attribute"
    summary: str | None = None  # None: ask the command (imports its module)

    def load(self) -> click.Command:
        """Import the module and return the command, with the summary as its short help."""
        module_name, attr = self.target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        if self.summary is not None:
            command.short_help = self.summary
        return command


class LazyGroup(click.Group):
    """Subcommands given as {"name": Lazy(...)} (or a bare "module.path:attribute")."""

    def __init__(self, *args, lazy: dict[str, Lazy | str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = {name: entry if isinstance(entry, Lazy) else Lazy(entry)
                      for name, entry in (lazy or {}).items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self._lazy:
            return self._lazy[name].load()
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from the summaries; only entries without one are imported."""
        rows = []
        for name in self.list_commands(ctx):
            entry = self._lazy.get(name)
            if entry is not None and entry.summary is not None:
                rows.append((name, entry.summary))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
