"""`watcher login`: log in to Globus once and store refresh tokens for the service."""

from __future__ import annotations

import webbrowser

import click

from watcher.cli._common import settings_option
from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.globus.login import LoginError, can_open_browser, finish_login, start_login
from watcher.globus.settings import PLACEHOLDER_CLIENT_ID
from watcher.globus.tokens import TokenFile


@click.command("login")
@settings_option
@click.option("--client-id", metavar="UUID",
              help="Globus native app client id (default: globus.client_id from config).")
@click.option("--no-browser", is_flag=True, help="Only print the URL; do not open a browser.")
@click.option("--collection", "collections", multiple=True, metavar="ID",
              help="Also consent to this GCSv5 mapped collection's data_access (repeatable).")
def login(settings: Settings, client_id: str | None, no_browser: bool,
          collections: tuple[str, ...]) -> None:
    """Log in to Globus and store refresh tokens that the watcher service uses."""
    client_id = client_id or settings.globus.client_id
    if client_id == PLACEHOLDER_CLIENT_ID:
        raise WatcherError(
            "no Globus client id: register a native app (thick client) at "
            "https://app.globus.org/settings/developers and set globus.client_id in the "
            "config file, or pass --client-id")
    tokens = TokenFile(settings.globus.token_db)
    try:
        flow = start_login(client_id, collections)
    except LoginError as exc:
        raise WatcherError(str(exc)) from exc
    click.echo("Open this URL in a browser, log in to Globus, and paste the code it shows:\n")
    click.echo(f"  {flow.url}\n")
    if not no_browser and can_open_browser():
        webbrowser.open(flow.url, new=1)
    code = click.prompt("Authorization code", prompt_suffix=": ")
    try:
        finish_login(flow, code, tokens)
    except LoginError as exc:
        raise WatcherError(str(exc)) from exc
    click.echo(f"Logged in. Tokens stored in {tokens.path} (readable by you only); a running "
               "watcher uses them from its next Globus poll.")
