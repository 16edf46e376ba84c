"""`PbsSim`: the PBS simulator as a context manager, for tests and the demo.

    with PbsSim(tmp_path / "pbs", nodes=2) as sim:
        job = sim.qsub("echo hi\\n", "-N", "hello", cwd=tmp_path)
        done = sim.wait_for(job)                 # the qstat -f -F json -x record of the job
        assert done["Exit_status"] == 0
        sim.commands                             # watcher.pbs.commands.PbsCommands(bin_dir=...)

Leaving the block stops the server and kills every runner and job it started, even when the
test failed. The API is stable: other packages (the engine, the demo) build on it.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from watcher.pbs.commands import PbsCommands
from watcher.sim.pbs import accounting, cluster, control, model, requests, store
from watcher.sim.pbs.context import SIM_USER_VAR, current_user
from watcher.sim.pbs.mom_files import write_pbs_environment
from watcher.sim.pbs.paths import SimPaths

_BARE_VALUE = re.compile(r'^(\s*"[^"]*":)(?![{"])(.*?)(,?)$', re.MULTILINE)
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)
OPERATOR = "operator"  # the site operator the maintenance helpers act as
_ENDED_MEANWHILE = ("Job has finished", "Unknown Job Id",
                    "Request invalid for finished array subjob")
_JSON_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$")


class PbsSim:
    """A simulated PBS server in `home`, started on enter and fully cleaned up on exit."""

    def __init__(self, home: Path, nodes: int = 2, server_name: str = "pbs-sim", *,
                 ncpus_per_node: int = 1, tick: float = 0.1, kill_delay: float = 1.0,
                 managers: tuple[str, ...] = (), operators: tuple[str, ...] = (),
                 vnodes: Sequence[str] = (), user_home: Path | None = None,
                 environment: dict[str, str] | None = None) -> None:
        """`vnodes`: specs like `pbs-cc1:ncpus=4` (see cluster.parse_vnode) instead of
        node01..nodeNN. `user_home`: the jobs' $HOME and start directory, by default
        HOME/home/<user>, so no test job ever runs in (or writes to) the real home.
        `environment`: the MoM's pbs_environment (default: PATH with the shims first)."""
        self.home = Path(home).resolve()
        self.paths = SimPaths(self.home)
        self.server_name = server_name
        self.user_home = Path(user_home) if user_home else self.home / "home" / current_user()
        specs = [cluster.parse_vnode(v) for v in vnodes]
        cluster.check_unique(specs)
        self._environment = environment
        self._settings = {"nodes": nodes, "server_name": server_name,
                          "ncpus_per_node": ncpus_per_node, "tick": tick,
                          "kill_delay": kill_delay, "managers": list(managers),
                          "operators": list(operators), "user_home": str(self.user_home),
                          "vnodes": [s.as_setting() for s in specs]}
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.close)

    @property
    def bin_dir(self) -> Path:
        """Where the qsub/qstat/qdel/qrls/qhold/qselect shims are."""
        return self.paths.bin_dir

    @property
    def commands(self) -> PbsCommands:
        """The watcher's command runner, pointed at this simulator's shims."""
        return PbsCommands(bin_dir=self.bin_dir)

    def __enter__(self) -> PbsSim:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start (or resume) the server; jobs and their history survive a stop/start."""
        self.user_home.mkdir(parents=True, exist_ok=True)
        self.paths.make_dirs()
        if self._environment is not None:
            write_pbs_environment(self.paths, self._environment)
        started = control.start(self.home, **self._settings)
        self._process = started.process or self._process

    def stop(self) -> None:
        """Stop the server only: commands now fail as with an unreachable server."""
        control.stop(self.home)
        if self._process is not None:
            self._process.wait()
            self._process = None

    def wipe(self) -> int:
        """Lose every job while the server keeps running; returns how many were lost."""
        return control.wipe(self.home)

    def configure(self, **settings: Any) -> None:
        """Change server settings while it runs, as `qmgr -c "set server ..."` would:
        `clock_offset` (seconds), `issue_2672`, `count_requests` (see `watcher.sim.pbs.store`)."""
        self._settings.update(settings)
        conn = store.connect(self.paths.db)
        try:
            with store.transaction(conn):
                for key, value in settings.items():
                    store.set_setting(conn, key, value)
        finally:
            conn.close()

    def copy_jobs(self, template: str, owners: Sequence[str], *, name: str = "copy",
                  mtime: float | None = None) -> list[str]:
        """Copies of job `template`, one per entry of `owners`: the way a test or benchmark
        fills a server with other users' jobs (their Job_Owner is `<owner>@<template's host>`)
        without thousands of `qsub` calls. A copy is named `<name>-<i>`; `mtime` makes the
        copies look last modified then (a history job of last week), else they are stamped now.
        """
        conn = store.connect(self.paths.db)
        ids: list[str] = []
        try:
            with store.transaction(conn):
                job = model.load(conn, int(template.partition(".")[0]))
                if job is None:
                    raise KeyError(f"no job {template}")
                if job.kind != "job":
                    raise ValueError(f"{template} is a job array: copies are of plain jobs")
                host = job.attrs["Job_Owner"].partition("@")[2]
                for i, owner in enumerate(owners):
                    job.seq = store.next_seq(conn)
                    job.attrs["Job_Owner"] = f"{owner}@{host}"
                    job.attrs["Job_Name"] = f"{name}-{i}"
                    model.insert(conn, job, mtime=None if mtime is None else int(mtime))
                    ids.append(job.jobid)
        finally:
            conn.close()
        return ids

    def requests(self) -> list[dict[str, Any]]:
        """What each qstat/qselect made the server send, while `count_requests` is on."""
        return requests.read(self.paths)

    def close(self) -> None:
        """Stop the server and kill every runner and job process. Safe to call twice."""
        if self.paths.home.exists():
            self.stop()
            control.kill_runners(self.paths)

    def run(self, command: str, *args: str, stdin: str | None = None,
            cwd: Path | None = None, user: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        """Run one shim (argument list, never a shell string) and capture its output;
        `user` runs it as that PBS user (e.g. an operator, see `operator_hold_all`)."""
        env = None if user is None else {**os.environ, SIM_USER_VAR: user}
        return subprocess.run([str(self.bin_dir / command), *args], input=stdin,
                              capture_output=True, text=True, cwd=cwd, timeout=60, env=env)

    def operator_hold_all(self, operator: str = OPERATOR) -> list[str]:
        """What a site does before a maintenance outage: `qhold -h o` on every job not yet
        ended, as an operator (made one if the server did not list it). Returns the ids."""
        return self._operator_holds("qhold", operator)

    def operator_release_all(self, operator: str = OPERATOR) -> list[str]:
        """After the outage: `qrls -h o` on every job not yet ended, as the operator."""
        return self._operator_holds("qrls", operator)

    def _operator_holds(self, command: str, operator: str) -> list[str]:
        operators = list(self._settings.get("operators", []))
        if operator not in operators:
            self.configure(operators=[*operators, operator])
        listed = self.run("qselect", user=operator)
        if listed.returncode != 0:
            raise RuntimeError(f"qselect failed ({listed.returncode}): {listed.stderr.strip()}")
        ids = listed.stdout.split()
        if ids:
            done = self.run(command, "-h", "o", *ids, user=operator)
            other = unexpected_errors(done.stderr)
            if done.returncode != 0 and other:
                raise RuntimeError(f"{command} failed ({done.returncode}): {'; '.join(other)}")
        return ids

    @property
    def workdir(self) -> Path:
        """Where `qsub` runs when no `cwd` is given: the job's `.o`/`.e` files land here, not
        in whatever directory the test or demo happens to run from."""
        path = self.home / "work"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def qsub(self, script_text: str, *args: str, cwd: Path | None = None) -> str:
        """Submit `script_text` on stdin with qsub `args` (in `cwd`, default `workdir`);
        returns the job id."""
        result = self.run("qsub", *args, stdin=script_text, cwd=cwd or self.workdir)
        if result.returncode != 0:
            raise RuntimeError(f"qsub failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout.strip()

    def qstat_json(self, *ids: str) -> dict[str, Any]:
        """`qstat -f -F json -x [ids]`, parsed (bare tokens PBS emits are read as strings)."""
        result = self.run("qstat", "-f", "-F", "json", "-x", *ids)
        return loads_pbs_json(result.stdout)

    def wait_for(self, job_id: str, state: str = "F", timeout: float = 30.0) -> dict[str, Any]:
        """Poll until the job is in `state`; returns its attributes. TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            job = self.qstat_json(job_id).get("Jobs", {}).get(job_id)
            seen = job and job.get("job_state")
            if seen == state:
                return job
            time.sleep(0.05)
        raise TimeoutError(f"{job_id} not in state {state} after {timeout:g}s (last: {seen})")

    def accounting_lines(self) -> list[str]:
        """Every accounting record written so far, oldest first."""
        return accounting.read_lines(self.paths.accounting_dir)


def unexpected_errors(stderr: str) -> list[str]:
    """The error lines of a qhold/qrls over many ids, less those of jobs that ended between
    the listing and the request (they need no hold any more)."""
    return [line for line in stderr.splitlines()
            if line and not any(why in line for why in _ENDED_MEANWHILE)]


def loads_pbs_json(text: str) -> dict[str, Any]:
    """json.loads that survives what real qstat emits: bare tokens JSON rejects (`00`, `.5`)
    become strings, invalid backslash escapes are kept literally, raw control characters pass.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        repaired = _ESCAPE.sub(_keep_valid_escape, _BARE_VALUE.sub(_quote_bare, text))
        return json.loads(repaired, strict=False)


def _quote_bare(match: re.Match[str]) -> str:
    key, value, comma = match.groups()
    if _JSON_NUMBER.match(value) or value in ("", "{", "true", "false", "null"):
        return match.group(0)
    return f"{key}{json.dumps(value)}{comma}"


def _keep_valid_escape(match: re.Match[str]) -> str:
    char = match.group(1)
    return match.group(0) if char and char in '"\\/bfnrtu' else "\\\\" + char
