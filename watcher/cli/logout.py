"""`watcher logout`: revoke and delete the stored Globus tokens."""

from __future__ import annotations

import click

from watcher.cli._common import settings_option
from watcher.cli.errors import WatcherError
from watcher.config import Settings
from watcher.globus.logout import CONSENTS_PAGE, log_out
from watcher.globus.tokens import TokenFile


@click.command("logout")
@settings_option
def logout(settings: Settings) -> None:
    """Revoke the stored Globus tokens at Globus Auth and delete them from this machine."""
    tokens = TokenFile(settings.globus.token_db)
    if not tokens.exists():
        click.echo(f"Not logged in: {tokens.path} does not exist.")
        return
    result = log_out(tokens, settings.globus.client_id)
    click.echo(f"Revoked {result.revoked} token(s) and deleted {tokens.path}; a running "
               "watcher pauses its Globus work until `watcher login`.")
    if result.failures:
        raise WatcherError(
            "could not revoke " + "; ".join(result.failures) + f": the tokens are deleted "
            f"here, revoke the grant by hand at {CONSENTS_PAGE}")
