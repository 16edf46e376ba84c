"""The command shims: tiny scripts in DIR/bin that call `main()` here.

A shim runs `python -IS` (no site, no user environment) and imports only the standard library
and this package, so a `qstat` call costs a few tens of milliseconds.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from watcher.sim.pbs.context import Context
from watcher.sim.pbs.messages import PBS_VERSION
from watcher.sim.pbs.paths import COMMANDS, SimPaths

_ENTRY = {
    "qsub": ("watcher.sim.pbs.qsub", "run"),
    "qstat": ("watcher.sim.pbs.qstat", "run"),
    "qdel": ("watcher.sim.pbs.jobcmds", "qdel"),
    "qhold": ("watcher.sim.pbs.jobcmds", "qhold"),
    "qrls": ("watcher.sim.pbs.jobcmds", "qrls"),
    "qselect": ("watcher.sim.pbs.qselect", "run"),
    "qsig": ("watcher.sim.pbs.sigcmds", "qsig"),
    "qrerun": ("watcher.sim.pbs.sigcmds", "qrerun"),
}

_TEMPLATE = """#!{python} -IS
# PBS simulator shim for `{command}` (watcher sim pbs). Not meant to be on PATH.
import sys
sys.path.insert(0, {root!r})
from watcher.sim.pbs.shim import main
sys.exit(main({command!r}, sys.argv, {home!r}, {server!r}))
"""


def main(command: str, argv: list[str], home: str, server: str) -> int:
    """Run one simulated PBS command; returns its exit code."""
    if argv[1:2] == ["--version"]:
        print(f"pbs_version = {PBS_VERSION}")
        return 0
    module, func = _ENTRY[command]
    ctx = Context(command, SimPaths(Path(home)), server)
    try:
        return int(getattr(importlib.import_module(module), func)(ctx, argv))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        ctx.close()
        sys.stdout.flush()


def write_shims(paths: SimPaths, server: str) -> None:
    """(Re)write DIR/bin/<command> for every command, executable, bound to this interpreter."""
    root = str(Path(__file__).resolve().parents[3])
    paths.bin_dir.mkdir(parents=True, exist_ok=True)
    for command in COMMANDS:
        target = paths.bin_dir / command
        text = _TEMPLATE.format(python=sys.executable, command=command, root=root,
                                home=str(paths.home), server=server)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.replace(target)
