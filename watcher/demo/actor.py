"""What a scenario can do: submit its workflow, inject a fault, act as the user, wait for
something to show, or for the watcher to poll. Every wait ends at the demo's deadline.

Blocking calls (the submission, the simulators' fault API, store reads) run in worker threads,
so the watcher's poll loop and the other scenarios keep going meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from watcher.demo import setup
from watcher.demo.look import View, settled, view
from watcher.demo.scenarios import Scenario
from watcher.demo.stream import Stream
from watcher.demo.world import DemoWorld
from watcher.service.workflow_submit import submit
from watcher.store.models import Workflow

T = TypeVar("T")
_LOOK_EVERY = 0.1


class Unfinished(Exception):
    """A scenario stopped waiting: the deadline passed, or the watcher cannot poll (the
    message says what it waited for and why it stopped)."""


class Pacer:
    """Counts the watcher's poll cycles, so a scenario can wait for the watcher to look.
    `broken` says why waiting is pointless (the watcher's cycles keep failing)."""

    def __init__(self) -> None:
        self.started = self.finished = 0
        self.broken: str | None = None
        self._changed = asyncio.Condition()

    def begin(self) -> None:
        """A poll cycle started (the runner's loop calls this before each `cycle()`)."""
        self.started += 1

    async def end(self) -> None:
        """A poll cycle ended, failed or not; wakes everyone waiting in `cycles`."""
        async with self._changed:
            self.finished += 1
            self._changed.notify_all()

    async def cycles(self, n: int) -> None:
        """Return once `n` whole cycles that began after this call have finished."""
        target = self.started + n
        async with self._changed:
            await self._changed.wait_for(lambda: self.finished >= target or self.broken)
        if self.broken:
            raise Unfinished(self.broken)


class Actor:
    """One scenario's hands: what its `play` calls."""

    def __init__(self, world: DemoWorld, scenario: Scenario, stream: Stream, pacer: Pacer,
                 gate: asyncio.Event, deadline: float) -> None:
        self.world, self.scenario, self.stream = world, scenario, stream
        self.pacer, self.gate, self.deadline = pacer, gate, deadline
        self.workflow_id: str | None = None
        self.submitted_at: float | None = None

    async def submit(self, stage_in_task: str | None = None) -> Workflow:
        """`watcher stage submit` for this scenario, in its run directory on scratch."""
        spec = setup.spec(self.world, self.scenario, stage_in_task)
        where = setup.layout(self.world, self.scenario)
        self.submitted_at = time.monotonic()
        source = (f"your task {stage_in_task}" if stage_in_task else
                  f"from {self.scenario.source}:/{self.scenario.letter}/in/")
        self.stream.say(self.scenario.letter, None,
                        f"▶ watcher stage submit compute.sh (stage-in {source})")
        workflow_id, _done = await asyncio.to_thread(
            submit, self.world.settings, self.world.store, spec, where.run_dir,
            recorded=self._recorded)
        return (await self.view(workflow_id)).workflow

    async def submit_graph(self) -> Workflow:
        """`watcher stage submit -f graph.yaml` for this scenario (setup.graph_spec)."""
        spec = setup.graph_spec(self.world, self.scenario)
        where = setup.layout(self.world, self.scenario)
        self.submitted_at = time.monotonic()
        self.stream.say(self.scenario.letter, None,
                        f"▶ watcher stage submit -f graph.yaml ({len(spec.steps)} steps: "
                        f"{', '.join(spec.steps)})")
        workflow_id, _done = await asyncio.to_thread(
            submit, self.world.settings, self.world.store, spec, where.run_dir,
            recorded=self._recorded)
        return (await self.view(workflow_id)).workflow

    def _recorded(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.stream.letters[workflow_id] = self.scenario.letter

    async def fault(self, text: str, fn: Callable[..., T], *args: Any) -> T:
        """Inject a fault into the world (said on screen first)."""
        self.stream.say(self.scenario.letter, self.workflow_id, f"⚡ {text}", "red")
        return await asyncio.to_thread(fn, *args)

    async def act(self, text: str, fn: Callable[..., T], *args: Any) -> T:
        """Do what the user would do (said on screen first)."""
        self.stream.say(self.scenario.letter, self.workflow_id, f"☞ {text}", "italic")
        return await asyncio.to_thread(fn, *args)

    def start_transfer_by_hand(self) -> str:
        """Start the scenario's stage-in outside watcher, as a user would; returns its task id."""
        return setup.start_by_hand(self.world, self.scenario)

    async def view(self, workflow_id: str | None = None) -> View:
        """The store's view of `workflow_id` (default: this scenario's, once submitted)."""
        found = workflow_id or self.workflow_id
        assert found is not None, "submit first"
        return await asyncio.to_thread(view, self.world, found)

    async def until(self, what: str, test: Callable[[View], bool]) -> View:
        """Look every 0.1 s until `test` holds; Unfinished at the deadline."""
        while True:
            now = await self.view()
            if test(now):
                return now
            step = f"the workflow is at step '{now.workflow.step}'"
            if self.pacer.broken:
                raise Unfinished(f"gave up waiting for {what} ({step}): {self.pacer.broken}")
            if time.monotonic() > self.deadline:
                raise Unfinished(f"timed out waiting for {what} ({step})")
            await asyncio.sleep(_LOOK_EVERY)

    async def cycles(self, n: int) -> None:
        """Wait for the watcher to poll `n` more times."""
        await self._bounded(self.pacer.cycles(n), f"{n} poll cycle(s) of the watcher")

    async def wait_for_gate(self) -> None:
        """Wait for the `first` scenario to let the others start; Unfinished at the deadline."""
        await self._bounded(self.gate.wait(), "the scenario that runs first")

    def let_others_start(self) -> None:
        """Called by the `first` scenario once the others may run alongside it."""
        self.gate.set()

    async def settle(self) -> View:
        """Wait until the workflow ended as the scenario expects, with all its mail."""
        ends, mails = self.scenario.ends, self.scenario.mails
        return await self.until(f"the workflow to end {ends} with {mails} email(s)",
                                lambda now: settled(self.scenario, now))

    async def _bounded(self, waiting: Any, what: str) -> None:
        await bounded(waiting, self.deadline, what)


async def bounded(waiting: Any, deadline: float, what: str) -> None:
    """Await `waiting` until the monotonic `deadline`; Unfinished (naming `what`) after it."""
    try:
        await asyncio.wait_for(waiting, max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise Unfinished(f"timed out waiting for {what}") from None
    except Unfinished as exc:
        raise Unfinished(f"gave up waiting for {what}: {exc}") from None
