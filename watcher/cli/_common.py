"""Options shared by the top-level commands: rules, database and settings file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from watcher.cli.errors import WatcherError
from watcher.config import Settings, SettingsError, load_settings
from watcher.private import NotPrivate
from watcher.store.db import Store, open_store


def _load_settings(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Settings:
    try:
        return load_settings(value)
    except SettingsError as exc:
        raise WatcherError(str(exc)) from exc


rules_option = click.option(
    "--rules", multiple=True, type=click.Path(path_type=Path),
    help="Rule file or directory (repeatable; default: ~/.config/watcher/rules).")
db_option = click.option("--db", "db_url", metavar="URL",
                         help="Database URL (default: from config.yaml, else SQLite).")
settings_option = click.option(
    "--config", "settings", type=click.Path(dir_okay=False, path_type=Path),
    callback=_load_settings, help="Settings file (default: ~/.config/watcher/config.yaml).")


def open_configured_store(settings: Settings, db_url: str | None) -> Store:
    try:
        return open_store(db_url or settings.store.url)
    except NotPrivate as exc:  # says how to fix it; the URL would only repeat the path
        raise WatcherError(f"refusing the store: {exc}") from exc
    except Exception as exc:  # a bad URL or an unreachable server: one clear line
        raise WatcherError(f"cannot open the store {db_url or settings.store.url}: {exc}") from exc


__all__: list[Any] = ["db_option", "open_configured_store", "rules_option", "settings_option"]
