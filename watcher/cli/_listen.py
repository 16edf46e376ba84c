"""What `watcher run --listen` and `watcher serve` share: the options, the token and the bound
socket (or one clear error before anything starts), and the lines that say where to look."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import click

from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.http.server import HttpFace, ListenRefused, bind, check_listen
from watcher.http.tokens import Tokens, load_or_create
from watcher.private import NotPrivate


def listen_options(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option("--insecure-listen", is_flag=True, help="Allow --listen on a "
                               "non-loopback address without TLS.")(command)
        return click.option("--listen", metavar="HOST:PORT", help=help_text)(command)

    return add


def open_face(settings: Settings, listen: str, insecure: bool) -> tuple[Tokens, socket.socket]:
    """The token and the bound socket, or one clear error before anything else starts."""
    try:
        host, port = check_listen(settings.http, listen, insecure=insecure)
        tokens = Tokens(load_or_create(settings.http.token_file))
        return tokens, bind(host, port)
    except (ListenRefused, NotPrivate, ValueError) as exc:
        raise WatcherError(str(exc)) from exc


def announced(face: HttpFace, settings: Settings, tokens: Tokens) -> HttpFace:
    """Say where the face serves, and give a one-time link for a browser."""
    # On stderr, not in the log: the link is a credential until it is used.
    click.echo(f"watcher: serving {face.url} (API token in {settings.http.token_file})",
               err=True)
    click.echo(f"watcher: open {face.url}?token={tokens.new_link()} in your browser (the "
               "link works once)", err=True)
    return face
