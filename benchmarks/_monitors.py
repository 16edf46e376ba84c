"""The hand-made approach, against the same emulator: one monitor job per workflow.

`TaskEnds` reads, on the round grid, when each task really ended (the emulator's own view,
in-process: no request, nothing counted); the model of the monitors is built on it.
`RealMonitors` are real ones for small N: a thread per task with its own client, polling
`get_task` over HTTP on the same grid, to check the model.
"""

from __future__ import annotations

import threading
import time

from _world import transfer_client

from watcher.globus.task_fields import TERMINAL
from watcher.sim.globus.testing import GlobusEmulator


class RealMonitors:
    """Real hand-made monitors: one thread per task, each with its own client, polling
    `get_task` on the watcher's grid (round k at t0 + k * period) until the task ends."""

    def __init__(self, tasks: list[str], token: str, period: float) -> None:
        self.tasks, self.token, self.period = tasks, token, period
        self.counts = [0] * len(tasks)
        self.threads: list[threading.Thread] = []

    def start(self, t0: float, deadline: float) -> None:
        self.threads = [threading.Thread(target=self._poll, args=(i, t0, deadline), daemon=True)
                        for i in range(len(self.tasks))]
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)

    def requests(self) -> int:
        return sum(self.counts)

    def _poll(self, i: int, t0: float, deadline: float) -> None:
        client = transfer_client(self.token)
        k = 0
        while time.monotonic() < deadline:
            delay = t0 + k * self.period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status = client.get_task(self.tasks[i])["status"]
            self.counts[i] += 1
            if status in TERMINAL:
                return
            k += 1


class TaskEnds:
    """When each task really ended, on the round grid: the emulator's own view, sampled
    in-process at t0 + k * period (no HTTP request, so nothing is counted)."""

    def __init__(self, emu: GlobusEmulator, tasks: list[str], period: float) -> None:
        self.emu, self.tasks, self.period = emu, tasks, period
        self.first_ended: dict[str, int] = {}
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self._t0 = self._deadline = 0.0

    def start(self, t0: float, deadline: float) -> None:
        self._t0, self._deadline = t0, deadline
        self.thread.start()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def ended(self) -> list[int]:
        last = max(self.first_ended.values(), default=0)
        return [self.first_ended.get(task, last) for task in self.tasks]

    def _sample(self) -> None:
        wanted, k = set(self.tasks), 0
        while len(self.first_ended) < len(wanted) and time.monotonic() < self._deadline:
            delay = self._t0 + k * self.period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            for doc in self.emu.tasks():
                if doc["task_id"] in wanted and doc["status"] in TERMINAL:
                    self.first_ended.setdefault(doc["task_id"], k)
            k += 1
