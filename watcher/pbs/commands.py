"""Running PBS commands: always an argument list, never a shell string.

The command paths are configurable because on a real cluster they are whatever the site installed,
and in tests they are the PBS simulator's shims. watcher never puts the simulator's shims on PATH:
a real `qsub` must never be shadowed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from watcher import metrics

PBS_COMMANDS = ("qstat", "qsub", "qdel", "qrls", "qhold", "qselect")
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class CommandResult:
    """What one PBS command did. `returncode` is None when it could not be run at all."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Whether the command exited 0."""
        return self.returncode == 0

    def describe(self) -> str:
        """One line for logs and action records: the command, its exit code and stderr."""
        err = self.stderr.strip().replace("\n", " | ")
        return f"{' '.join(self.argv)} -> exit {self.returncode}" + (f": {err}" if err else "")


@dataclass(frozen=True)
class PbsCommands:
    """Where each PBS command lives. `bin_dir` (e.g. the simulator's `DIR/bin`) wins over PATH."""

    bin_dir: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    env: dict[str, str] | None = None

    def path(self, command: str) -> str:
        """The executable: an override, then `bin_dir`, then PATH, else the bare name."""
        if command in self.overrides:
            return self.overrides[command]
        if self.bin_dir is not None:
            return str(self.bin_dir / command)
        return shutil.which(command) or command

    async def run(
        self, command: str, *args: str, stdin: str | None = None, cwd: Path | None = None
    ) -> CommandResult:
        """Run `command args...` (in `cwd`: qsub records it as PBS_O_WORKDIR); a missing
        binary or a timeout is a result, not an exception. Counted in `watcher.metrics`."""
        result = await self._run(command, *args, stdin=stdin, cwd=cwd)
        metrics.PBS_COMMANDS.labels(command, "ok" if result.ok else "failed").inc()
        return result

    async def _run(self, command: str, *args: str, stdin: str | None, cwd: Path | None
                   ) -> CommandResult:
        argv = (self.path(command), *args)
        env = {**os.environ, **self.env} if self.env else None
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=cwd,
            )
        except OSError as exc:
            return CommandResult(argv, None, "", f"cannot run {argv[0]}: {exc}")
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(stdin.encode() if stdin is not None else None), self.timeout
            )
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return CommandResult(argv, None, "", f"{argv[0]} timed out after {self.timeout:g}s")
        return CommandResult(
            argv, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
        )

    def run_sync(
        self, command: str, *args: str, stdin: str | None = None, cwd: Path | None = None
    ) -> CommandResult:
        """The same, for CLI commands that are not inside an event loop."""
        return asyncio.run(self.run(command, *args, stdin=stdin, cwd=cwd))
