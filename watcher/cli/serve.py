"""`watcher serve`: the web page, REST API and /metrics of a store, read-only, without polling.

For a second node (or a gateway host) next to the `watcher run` instances of a PostgreSQL
store: it shows what they record and refuses every write (submissions, cancels and silences go
through `watcher run --listen` or the command line, where the service's PBS and Globus are).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from watcher import paths
from watcher.cli._common import db_option, open_configured_store, rules_option, settings_option
from watcher.cli._listen import announced, listen_options, open_face
from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.http.context import HttpContext
from watcher.http.server import HttpFace


@click.command("serve")
@rules_option
@db_option
@settings_option
@listen_options("Where to serve (e.g. 127.0.0.1:8080; default: http.listen in config.yaml).")
def serve(rules: tuple[Path, ...], db_url: str | None, settings: Settings, listen: str | None,
          insecure_listen: bool) -> None:
    """Serve the web page, REST API and /metrics of the store, read-only, until SIGTERM or
    Ctrl-C."""
    listen = listen or settings.http.listen
    if not listen:
        raise WatcherError("where to serve? give --listen HOST:PORT or http.listen in "
                           "config.yaml")
    tokens, sock = open_face(settings, listen, insecure_listen)
    store = open_configured_store(settings, db_url)
    try:
        ctx = HttpContext(settings, store, list(rules) or [paths.rules_dir()], tokens)
        face = announced(HttpFace(ctx, sock, read_only=True), settings, tokens)
        asyncio.run(_until_signal(face))
    finally:
        store.close()


async def _until_signal(face: HttpFace) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, face.stop)
    await face.serve()
