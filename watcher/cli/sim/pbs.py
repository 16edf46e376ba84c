"""`watcher sim pbs`: run the embedded PBS simulator (server, runners and command shims)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from watcher import paths
from watcher.cli.errors import WatcherError

_HOME = click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Simulator home directory (default: <data>/sim/pbs).")


def _home(home: Path | None) -> Path:
    return home if home is not None else paths.sim_home("pbs")


@click.group()
def pbs() -> None:
    """Run the PBS simulator; its qsub/qstat/... shims live in HOME/bin, never on PATH."""


@pbs.command(short_help="Start the simulator server (idempotent).")
@_HOME
@click.option("--nodes", type=click.IntRange(min=1), default=None,
              help="Number of vnodes (default 2, kept between starts).")
@click.option("--ncpus", "ncpus_per_node", type=click.IntRange(min=1), default=None,
              help="Cpus per vnode (default 1).")
@click.option("--server-name", default=None, help="PBS server name in job ids (default pbs-sim).")
@click.option("--manager", "managers", multiple=True, help="User allowed holds s/o (repeatable).")
@click.option("--operator", "operators", multiple=True, help="User allowed hold o (repeatable).")
@click.option("--vnode", "vnode_specs", multiple=True, metavar="NAME[:host=H][:ncpus=N][:RES=V]",
              help="A named vnode, e.g. pbs-cc1:ncpus=8:bigmem=True (repeatable; replaces "
                   "--nodes/--ncpus; kept between starts).")
@click.option("--user-home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Jobs' $HOME and start directory (default: your password entry's home).")
def start(home: Path | None, nodes: int | None, ncpus_per_node: int | None,
          server_name: str | None, managers: tuple[str, ...], operators: tuple[str, ...],
          vnode_specs: tuple[str, ...], user_home: Path | None) -> None:
    """Start the PBS simulator server in the background and write its command shims."""
    from watcher.sim.pbs import cluster, control

    if vnode_specs and (nodes is not None or ncpus_per_node is not None):
        raise click.UsageError("give the cluster as --vnode specs or as --nodes/--ncpus, "
                               "not both")
    try:
        specs = [cluster.parse_vnode(v) for v in vnode_specs]
        cluster.check_unique(specs)
    except cluster.VnodeSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--vnode") from exc
    vnodes = [s.as_setting() for s in specs] if specs else (
        [] if nodes is not None or ncpus_per_node is not None else None)  # None: keep as is
    extra = {"ncpus_per_node": ncpus_per_node,
             "managers": list(managers) or None, "operators": list(operators) or None,
             "vnodes": vnodes,
             "user_home": str(user_home.resolve()) if user_home else None}
    try:
        started = control.start(_home(home), nodes=nodes, server_name=server_name, **extra)
    except control.SimError as exc:
        raise WatcherError(str(exc)) from exc
    state = "already running" if started.already_running else "started"
    bin_dir = _home(home).resolve() / "bin"
    click.echo(f"PBS simulator {state} (pid {started.pid}); commands in {bin_dir}")


@pbs.command(short_help="Stop the simulator server.")
@_HOME
def stop(home: Path | None) -> None:
    """Stop the server; commands then fail like an unreachable PBS server, jobs keep running."""
    from watcher.sim.pbs import control

    was_running = control.stop(_home(home))
    click.echo("PBS simulator stopped" if was_running else "PBS simulator was not running")


@pbs.command(short_help="Lose every job (a destroyed PBS datastore).")
@_HOME
def wipe(home: Path | None) -> None:
    """Delete every job and kill running ones, as a lost PBS datastore would."""
    from watcher.sim.pbs import control

    lost = control.wipe(_home(home))
    click.echo(f"PBS simulator wiped: {lost} job(s) lost")


@pbs.command(short_help="Show whether the simulator runs, its nodes and jobs.")
@_HOME
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def status(home: Path | None, as_json: bool) -> None:
    """Show whether the simulator runs, its nodes, and job counts by state."""
    from watcher.sim.pbs import control

    info = control.status(_home(home))
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    table = Table(title=f"PBS simulator {info['server_name'] or '(never started)'}",
                  show_header=False)
    table.add_column("")
    table.add_column("")
    table.add_row("server", f"running (pid {info['pid']})" if info["running"] else "stopped")
    table.add_row("home", info["home"])
    table.add_row("vnodes", ", ".join(f"{v['name']} ({v['ncpus']} cpus)" for v in info["vnodes"])
                  or "-")
    jobs = info["jobs"]
    table.add_row("jobs", ", ".join(f"{s}: {n}" for s, n in sorted(jobs.items())) or "none")
    Console().print(table)
