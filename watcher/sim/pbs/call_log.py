"""A log of every PBS command a process runs, for benchmarks and tests that count calls.

A wrapper script per command appends the time and the command's name to a log, then execs the
simulator's shim. The watcher is pointed at the wrappers (`bin_dir`), so every call it makes
is counted, whatever code path makes it.
"""

from __future__ import annotations

from pathlib import Path

from watcher.pbs.commands import PBS_COMMANDS


class PbsCallLog:
    """Wrappers in `wrap_dir` in front of the simulator's commands in `real_bin`."""

    def __init__(self, wrap_dir: Path, real_bin: Path) -> None:
        self.bin_dir = wrap_dir
        self.log = wrap_dir / "calls.log"
        wrap_dir.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        for command in PBS_COMMANDS:
            script = wrap_dir / command
            script.write_text(f'#!/bin/sh\necho "$(date +%s.%N) {command}" >> "{self.log}"\n'
                              f'exec "{real_bin / command}" "$@"\n')
            script.chmod(0o755)

    def calls(self) -> list[str]:
        """Every command run so far, by name, oldest first."""
        return [name for _, name in self.stamped()]

    def stamped(self) -> list[tuple[float, str]]:
        """(epoch seconds when the call started, command), oldest first."""
        return [(float(at), name) for at, name in
                (line.split() for line in self.log.read_text().splitlines())]

    def since(self, mark: int) -> list[str]:
        """The commands run after the first `mark` (a `len(calls())` taken earlier)."""
        return self.calls()[mark:]

    def times(self, command: str, since: float, until: float) -> list[float]:
        """When `command` started, in epoch seconds, between `since` and `until`, sorted."""
        return sorted(at for at, name in self.stamped()
                      if name == command and since <= at <= until)
