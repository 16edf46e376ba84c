"""Running the scenarios side by side on one watcher service, the way `watcher run` would:
one poll cycle (PBS, Globus, rules, actions) serves every workflow at once.

Three kinds of task share one event loop: the poll loop, a follower that streams the step log
and the mail, and one play per scenario. When every play has settled (or the deadline passed),
the watcher polls twice more, so an email sent twice would show, and then each scenario's facts
are judged against its checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Sequence

from watcher.demo.actor import Actor, Pacer, Unfinished, bounded
from watcher.demo.checks import failures
from watcher.demo.facts import observed
from watcher.demo.look import gather
from watcher.demo.report import Outcome
from watcher.demo.scenarios import Scenario
from watcher.demo.stream import Stream, StreamHandler
from watcher.demo.world import DemoWorld

_FOLLOW_EVERY = 0.15
_GRACE_CYCLES = 2
_GIVE_UP_AFTER = 10


async def run_scenarios(world: DemoWorld, scenarios: Sequence[Scenario], stream: Stream,
                        timeout: float) -> list[Outcome]:
    """Play every scenario against one service; their outcomes, in the given order."""
    pacer, stop, gate = Pacer(), asyncio.Event(), asyncio.Event()
    if not any(s.first for s in scenarios):
        gate.set()
    deadline = time.monotonic() + timeout
    actors = [Actor(world, s, stream, pacer, gate, deadline) for s in scenarios]
    handler, logger = StreamHandler(stream), logging.getLogger("watcher")
    logger.addHandler(handler)
    polling = asyncio.create_task(_poll(world, pacer, stop, stream))
    following = asyncio.create_task(_follow(world, stream, stop))
    try:
        ended = await asyncio.gather(*(_play(actor) for actor in actors))
        with contextlib.suppress(Unfinished):  # past the deadline: the outcomes say what lacks
            await bounded(pacer.cycles(_GRACE_CYCLES), deadline, "the last poll cycles")
        return [await asyncio.to_thread(_judge, actor, seconds, problem)
                for actor, (seconds, problem) in zip(actors, ended, strict=True)]
    finally:
        stop.set()
        await asyncio.gather(polling, following)  # a cycle in progress is let finish
        logger.removeHandler(handler)


async def _play(actor: Actor) -> tuple[float, str | None]:
    """Run the scenario to its end; (seconds from its submission, why it stopped early)."""
    problem = None
    try:
        if not actor.scenario.first:
            await actor.wait_for_gate()
        await actor.scenario.play(actor)
        await actor.settle()
    except Unfinished as exc:
        problem = str(exc)
    except Exception as exc:  # a scenario that breaks is reported, the others go on
        problem = f"the scenario broke: {exc!r}"
    finally:
        if actor.scenario.first:
            actor.let_others_start()
    started = actor.submitted_at or time.monotonic()
    return time.monotonic() - started, problem


def _judge(actor: Actor, seconds: float, problem: str | None) -> Outcome:
    s = actor.scenario
    problems = [problem] if problem else []
    if actor.workflow_id is None:
        return Outcome(s.letter, s.title, s.expected, "never submitted", seconds, None,
                       tuple(problems or ["the workflow was never submitted"]))
    facts = gather(actor.world, s, actor.workflow_id)
    problems += failures(s.checks, facts)
    return Outcome(s.letter, s.title, s.expected, observed(facts), seconds,
                   actor.workflow_id, tuple(problems))


async def _poll(world: DemoWorld, pacer: Pacer, stop: asyncio.Event, stream: Stream) -> None:
    interval, failures = world.knobs.poll_interval, _Failures(stream, pacer)
    while not stop.is_set():
        began = time.monotonic()
        pacer.begin()
        try:
            await world.service.cycle()
            failures.none()
        except Exception as exc:  # `watcher run` logs a failed poll and polls again later
            failures.one(exc)
        finally:
            await pacer.end()
        await _pause(stop, max(interval - (time.monotonic() - began), 0.05))


class _Failures:
    """Says a failing cycle once (not at every poll), and after `_GIVE_UP_AFTER` in a row
    tells the scenarios to stop waiting for a watcher that cannot poll."""

    def __init__(self, stream: Stream, pacer: Pacer) -> None:
        self._stream, self._pacer = stream, pacer
        self._last: str | None = None
        self._count = 0

    def one(self, exc: Exception) -> None:
        text = repr(exc)
        self._count = self._count + 1 if text == self._last else 1
        if text != self._last:
            self._stream.say("!", None, f"the watcher's poll cycle failed: {text}", "red")
        self._last = text
        if self._count >= _GIVE_UP_AFTER:
            self._pacer.broken = f"the watcher's last {self._count} poll cycles failed: {text}"

    def none(self) -> None:
        if self._count > 1:
            self._stream.say("!", None, f"(that failure came {self._count} times in a row)")
        self._last, self._count = None, 0


async def _follow(world: DemoWorld, stream: Stream, stop: asyncio.Event) -> None:
    while True:
        final = stop.is_set()
        mails = [(str(m.message["To"]), str(m.message["Subject"]))
                 for m in world.sink.messages]
        await asyncio.to_thread(functools.partial(stream.follow, world.store, mails,
                                                  final=final))
        if final:
            return  # the last lines are out
        await _pause(stop, _FOLLOW_EVERY)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
