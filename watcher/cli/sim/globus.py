"""`watcher sim globus`: run the Globus emulator as a daemon and inject faults into it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from watcher import paths
from watcher.cli._common import settings_option
from watcher.cli.errors import WatcherError
from watcher.config import Settings

DEFAULT_DAEMON_BANDWIDTH = 10_000_000


def _home_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--home", type=click.Path(path_type=Path, file_okay=False),
                        default=lambda: paths.sim_home("globus"), show_default="sim home",
                        help="Emulator home directory (state, endpoints, pid, url).")(func)


def _client(home: Path) -> Any:
    from watcher.sim.globus.admin_client import AdminClient
    from watcher.sim.globus.daemon import running_url

    url = running_url(home)
    if url is None:
        raise WatcherError(f"the Globus emulator is not running (home {home})")
    return AdminClient(url)


def _admin(home: Path, method: str, *args: Any, **kwargs: Any) -> Any:
    from watcher.sim.globus.admin_client import AdminError

    try:
        return getattr(_client(home), method)(*args, **kwargs)
    except AdminError as exc:
        raise WatcherError(str(exc)) from exc


@click.group()
def globus() -> None:
    """Run the Globus emulator (Transfer and Auth on 127.0.0.1)."""


@globus.command(short_help="Start the emulator in the background.")
@_home_option
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--bandwidth", type=float, default=DEFAULT_DAEMON_BANDWIDTH, show_default=True,
              help="Bytes per second for each running task.")
def start(home: Path, port: int, bandwidth: float) -> None:
    """Start the emulator in the background and print the variables to export."""
    from watcher.sim.globus.daemon import DaemonError, start_daemon

    try:
        url = start_daemon(home, port, bandwidth)
    except DaemonError as exc:
        raise WatcherError(str(exc)) from exc
    click.echo(f"export GLOBUS_SDK_SERVICE_URL_TRANSFER={url}")
    click.echo(f"export GLOBUS_SDK_SERVICE_URL_AUTH={url}")


@globus.command()
@_home_option
def stop(home: Path) -> None:
    """Stop the emulator; its tasks are kept for the next start."""
    from watcher.sim.globus.daemon import DaemonError, stop_daemon

    try:
        stopped = stop_daemon(home)
    except DaemonError as exc:
        raise WatcherError(str(exc)) from exc
    click.echo("stopped" if stopped else "not running")


@globus.command()
@_home_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(home: Path, as_json: bool) -> None:
    """Show tasks by status, request counters and active faults."""
    state = _admin(home, "status")
    if as_json:
        click.echo(json.dumps(state, indent=1))
        return
    console = Console()
    table = Table("status", "tasks", title="Tasks")
    for name, count in sorted(state["tasks"].items()):
        table.add_row(name, str(count))
    console.print(table)
    counters = Table("route", "requests", title="Requests")
    for route, count in sorted(state["counters"].items()):
        counters.add_row(route, str(count))
    console.print(counters)
    console.print(f"faults: {json.dumps(state['faults'])}")
    console.print(f"bandwidth: {state['bandwidth']:.0f} B/s, "
                  f"token lifetime: {state['token_lifetime']:.0f} s")


@globus.group()
def endpoint() -> None:
    """Configure emulated endpoints (local directories)."""


@endpoint.command("add")
@_home_option
@click.argument("endpoint_id")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", help="Display name.")
@click.option("--type", "entity_type", default="mapped", show_default=True,
              type=click.Choice(["mapped", "guest", "gcsv5-endpoint", "gcp", "gcp-guest",
                                 "gcsv4", "gcsv4-share"]),
              help="What Transfer says it is (entity_type).")
@click.option("--requires-consent", is_flag=True,
              help="A mapped collection that refuses users without its data_access consent.")
@click.option("--high-assurance", is_flag=True, help="A high-assurance collection.")
@click.option("--host", "host_endpoint_id", metavar="ID",
              help="A guest collection's mapped collection.")
def endpoint_add(home: Path, endpoint_id: str, path: Path, name: str | None,
                 entity_type: str, requires_consent: bool, high_assurance: bool,
                 host_endpoint_id: str | None) -> None:
    """Map an endpoint id to a local directory (works whether or not it runs)."""
    from watcher.sim.globus.daemon import running_url
    from watcher.sim.globus.endpoints import EndpointRegistry

    kind = {"entity_type": entity_type, "requires_consent": requires_consent or None,
            "high_assurance": high_assurance or None, "host_endpoint_id": host_endpoint_id}
    try:
        if running_url(home):
            _admin(home, "add_endpoint", str(path.resolve()), endpoint_id, name, **kind)
        else:
            EndpointRegistry(home / "endpoints.json").add(path, endpoint_id, name, **kind)
    except ValueError as exc:
        raise WatcherError(f"invalid endpoint {endpoint_id!r}: {exc}") from exc
    click.echo(endpoint_id)


@endpoint.command("remove")
@_home_option
@click.argument("endpoint_id")
def endpoint_remove(home: Path, endpoint_id: str) -> None:
    """Delete an endpoint (its unfinished tasks fail; its directory is kept)."""
    from watcher.sim.globus.daemon import running_url
    from watcher.sim.globus.endpoints import EndpointRegistry

    if running_url(home):
        _admin(home, "remove_endpoint", endpoint_id)
    elif not EndpointRegistry(home / "endpoints.json").remove(endpoint_id):
        raise WatcherError(f"no endpoint {endpoint_id!r} in {home / 'endpoints.json'}")
    click.echo(f"removed {endpoint_id}")


@endpoint.command("list")
@_home_option
def endpoint_list(home: Path) -> None:
    """List the configured endpoints."""
    from watcher.sim.globus.endpoints import EndpointRegistry

    # An id is what users copy into commands: it is never cut short, the path folds instead.
    table = Table("id", "path", "name")
    table.columns[0].no_wrap, table.columns[0].min_width = True, 36
    table.columns[1].overflow = "fold"
    for ep in EndpointRegistry(home / "endpoints.json").all():
        table.add_row(ep.id, ep.path, ep.display_name)
    Console().print(table)


@globus.command("login", short_help="Log watcher in to the running emulator.")
@_home_option
@click.option("--user", default="alice", show_default=True, help="The emulated Globus user.")
@click.option("--collection", "collections", multiple=True, metavar="ID",
              help="Also consent to this collection's data_access (repeatable).")
@settings_option
def login(home: Path, user: str, collections: tuple[str, ...], settings: Settings) -> None:
    """Log watcher in to the running emulator as USER, storing tokens as `watcher login` does."""
    from watcher.cli.sim._globus_login import emulator_client_id, log_in_to_emulator
    from watcher.globus.login import LoginError
    from watcher.globus.tokens import TokenFile
    from watcher.sim.globus.daemon import running_url
    from watcher.sim.globus.emulator import NATIVE_CLIENT_ID

    url = running_url(home)
    if url is None:
        raise WatcherError(f"the Globus emulator is not running (home {home}): "
                           "run `watcher sim globus start` first")
    tokens = TokenFile(settings.globus.token_db)
    client_id = emulator_client_id(settings.globus.client_id, NATIVE_CLIENT_ID)
    try:
        log_in_to_emulator(url, user, client_id, tokens, collections)
    except LoginError as exc:
        raise WatcherError(str(exc)) from exc
    click.echo(f"Logged in to the Globus emulator at {url} as {user}; tokens stored in "
               f"{tokens.path}. For `watcher run` and globus-cli, export:")
    click.echo(f"export GLOBUS_SDK_SERVICE_URL_TRANSFER={url}")
    click.echo(f"export GLOBUS_SDK_SERVICE_URL_AUTH={url}")


@globus.command()
@_home_option
@click.argument("user")
@click.option("--lifetime", type=float, help="Access token lifetime in seconds.")
def tokens(home: Path, user: str, lifetime: float | None) -> None:
    """Issue access and refresh tokens for USER and print them as JSON."""
    click.echo(json.dumps(_admin(home, "issue_tokens", user, lifetime), indent=1))


@globus.group()
def fault() -> None:
    """Inject faults into the running emulator."""


def _fault(name: str, method: str, *arguments: click.Argument,
           options: tuple[click.Option, ...] = (), help: str) -> None:
    """Declare `watcher sim globus fault NAME ...` calling the admin method `method`."""

    def run(home: Path, **kwargs: Any) -> None:
        result = _admin(home, method, **kwargs)
        click.echo("ok" if result is None else json.dumps(result))

    command = click.Command(name, callback=run, help=help,
                            params=[*arguments, *options, _home_param()])
    fault.add_command(command)


def _home_param() -> click.Option:
    return click.Option(["--home"], type=click.Path(path_type=Path, file_okay=False),
                        default=lambda: paths.sim_home("globus"),
                        help="Emulator home directory.")


_ENDPOINT_OPT = click.Option(["--endpoint", "endpoint_id"], help="Only this endpoint.")
_fault("fail-task", "fail_task", click.Argument(["task_id"]), options=(
    click.Option(["--code"], default="ENDPOINT_ERROR", show_default=True),
    click.Option(["--description"], default="Injected failure")),
    help="Make a task FAILED with a fatal error.")
_fault("pause-endpoint", "pause_endpoint", click.Argument(["endpoint_id"]),
       help="Pause every task that touches an endpoint.")
_fault("resume-endpoint", "resume_endpoint", click.Argument(["endpoint_id"]),
       help="Let tasks on an endpoint run again.")
_fault("expire-credentials", "expire_credentials", click.Argument(["user"]),
       options=(_ENDPOINT_OPT,), help="Expire a user's credentials: tasks go INACTIVE.")
_fault("restore-credentials", "restore_credentials", click.Argument(["user"]),
       options=(_ENDPOINT_OPT,), help="Restore a user's credentials.")
_fault("quota", "set_quota", click.Argument(["endpoint_id"]),
       click.Argument(["nbytes"], type=int, required=False),
       help="Cap the bytes stored on an endpoint (no NBYTES: remove the cap).")
_fault("revoke-refresh-tokens", "revoke_refresh_tokens", click.Argument(["user"]),
       help="Revoke a user's refresh tokens (refresh then fails invalid_grant).")
_fault("expire-access-tokens", "expire_access_tokens",
       click.Argument(["user"], required=False),
       help="Invalidate access tokens now (all users without USER).")
_fault("token-lifetime", "set_token_lifetime", click.Argument(["seconds"], type=float),
       help="Set the lifetime of access tokens issued from now on.")
_fault("bandwidth", "set_bandwidth", click.Argument(["bytes_per_second"], type=float),
       help="Set the bytes per second of each running task.")
_fault("flaky", "flaky", options=(
    click.Option(["--status"], type=int, default=503, show_default=True),
    click.Option(["--share"], type=float, default=1.0, show_default=True,
                 help="Fraction of requests answered with STATUS."),
    click.Option(["--count"], type=int, help="Stop after this many errors."),
    click.Option(["--retry-after"], type=int, default=0, show_default=True),
    click.Option(["--service"], type=click.Choice(["transfer", "auth", "all"]),
                 default="transfer", show_default=True)),
    help="Answer a share of requests with 429/503 and Retry-After.")
_fault("reset", "reset_faults", help="Clear every fault.")
