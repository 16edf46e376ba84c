"""`watcher silence add|list|remove`: mute rules for a while, see what is muted, end a silence."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.engine.silences import Silence, add_silence, end_silence, load_silences
from watcher.lang.durations import format_duration, parse_duration
from watcher.store.db import sqlite_path
from watcher.views.silences import SilenceRefused, check_glob, check_known, known_rules


class _Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> timedelta:
        try:
            return value if isinstance(value, timedelta) else parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.group()
def silence() -> None:
    """Mute rules for a while: a silenced rule records its firings but runs no actions."""


@silence.command(short_help="Mute a rule (or a glob of rules) for a while.")
@click.argument("rule")
@click.option("--for", "duration", type=_Duration(), required=True,
              help="How long: 30m, 2h, 1d, ...")
@click.option("--subject", metavar="GLOB", help="Only firings for matching job or task ids.")
@click.option("--comment", default="", help="Why, shown in firings it suppresses.")
@click.option("--force", is_flag=True,
              help="Silence it even if no rule of that name is known (yet).")
@rules_option
@db_option
@settings_option
def add(rule: str, duration: timedelta, subject: str | None, comment: str, force: bool,
        rules: tuple[Path, ...], db_url: str | None, settings: Settings) -> None:
    """Mute RULE (a name or a glob like 'storm-*') and print the new silence's id.

    RULE must name (or match) a rule of the rules directory, a shipped staging rule or a rule
    the service has run, so a typo does not silence nothing for hours; --force skips that."""
    try:
        check_glob(rule)
        store = open_configured_store(settings, db_url)
        try:
            with store.session() as session:
                if not force:
                    check_known(rule, known_rules(session, list(rules) or [paths.rules_dir()]))
                added = add_silence(session, rule, duration, datetime.now(UTC),
                                    subject=subject, comment=comment,
                                    created_by=getpass.getuser())
        finally:
            store.close()
    except SilenceRefused as exc:
        raise WatcherError(str(exc)) from exc
    click.echo(added.id)
    click.echo(f"silenced '{rule}'" + (f" for '{subject}'" if subject else "")
               + f" until {_when(added.until)} UTC", err=True)


@silence.command("list", short_help="Show the silences in force.")
@click.option("--all", "show_all", is_flag=True, help="Include silences that have ended.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@db_option
@settings_option
def list_(show_all: bool, as_json: bool, db_url: str | None, settings: Settings) -> None:
    """Show the silences in force (with --all, ended ones too), oldest first."""
    now = datetime.now(UTC)
    found = [s for s in _load(settings, db_url) if show_all or s.active(now)]
    if as_json:
        click.echo(json.dumps([{**s.to_value(), "active": s.active(now)} for s in found],
                              indent=2))
    elif not found:
        click.echo("No silences." if show_all else "No silences in force.")
    else:
        Console().print(_table(found, now))


@silence.command(short_help="End a silence now.")
@click.argument("silence_id", metavar="ID")
@db_option
@settings_option
def remove(silence_id: str, db_url: str | None, settings: Settings) -> None:
    """End the silence ID now; it stays listed under --all."""
    now = datetime.now(UTC)
    store = open_configured_store(settings, db_url)
    try:
        with store.session() as session:
            ended = end_silence(session, silence_id, now)
    finally:
        store.close()
    if ended is None:
        raise WatcherError(f"no silence '{silence_id}' (see 'watcher silence list --all')")
    if ended.until == now:
        click.echo(f"silence {silence_id} ended")
    else:
        click.echo(f"silence {silence_id} had already ended at {_when(ended.until)} UTC")


def _load(settings: Settings, db_url: str | None) -> list[Silence]:
    path = sqlite_path(db_url or settings.store.url)
    if path is not None and not path.exists():  # listing creates no database
        return []
    store = open_configured_store(settings, db_url)
    try:
        with store.session(write=False) as session:
            return load_silences(session)
    finally:
        store.close()


def _table(silences: list[Silence], now: datetime) -> Table:
    table = Table(title="Silences", title_justify="left")
    for name in ("ID", "Rule", "Subject", "Until (UTC)", "Left", "Comment", "By"):
        table.add_column(name, overflow="fold")
    for s in silences:
        left = format_duration(timedelta(seconds=int((s.until - now).total_seconds())))
        table.add_row(s.id, s.rule, s.subject or "*", _when(s.until),
                      left if s.active(now) else "ended", s.comment, s.created_by)
    return table


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
