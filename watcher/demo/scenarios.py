"""Scenarios A to E as data: where the input lives, what the user and the world do to the
workflow (submit, inject a fault, re-authenticate), and what the watcher is expected to do.

Each scenario gets its own directories: its input in `<source>/<X>/in/`, its jobs running in
`scratch/<X>/run` (compute.sh, cleanup.sh), its output staged back to `<source>/<X>/results/`.
Input sizes and the emulator's bandwidth decide how long a stage-in runs: B, C and D need
theirs to be still running when their fault lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watcher.demo import checks as c
from watcher.demo.checks import Check
from watcher.demo.facts import RESUBMITTED
from watcher.demo.world import USER

if TYPE_CHECKING:
    from watcher.demo.actor import Actor

Play = Callable[["Actor"], Awaitable[None]]
# Compute's first news after its hold (released, running, or already finished: a short job
# can start and end between two polls) comes only after the stage-in succeeded. Log lines are
# matched as `<step> <text>`.
HELD_UNTIL = r"^compute job \S+ (released|running|finished)"
STAGED_IN = r"^stage-in task \S+ succeeded"


@dataclass(frozen=True)
class Scenario:
    """One staged workflow and its story. `first`: it runs alone until it calls
    `actor.let_others_start()` (a queue wipe loses every job on the server)."""

    letter: str
    name: str
    title: str
    source: str
    input_bytes: int
    play: Play
    checks: tuple[Check, ...]
    ends: str = "done"
    mails: int = 1
    first: bool = False
    compute: str | None = None  # its compute.sh (default: setup.COMPUTE)
    qsub: tuple[str, ...] = ()  # qsub options of its compute job
    graph: bool = False  # a graph workflow (setup.graph_spec) instead of the three steps

    @property
    def expected(self) -> str:
        """The checks' expectations, joined by `; ` (the report's Expected column)."""
        return "; ".join(check.expect for check in self.checks)


async def _happy(actor: Actor) -> None:
    await actor.submit()


async def _stage_in_fails(actor: Actor) -> None:
    wf = await actor.submit()
    task = wf.progress["steps"]["stage-in"]["tasks"][0]
    await actor.fault("the stage-in fails (PERMISSION_DENIED)", actor.world.emu.fail_task,
                      task, "PERMISSION_DENIED", "no write access to /B/run/in/")


async def _credentials_expire(actor: Actor) -> None:
    await actor.submit()
    emu, archive = actor.world.emu, actor.world.endpoint("archive")
    await actor.fault("your consent for endpoint 'archive' expires mid-transfer",
                      emu.expire_credentials, USER, archive)
    await actor.until("the email asking to re-authenticate", lambda view: len(view.emails) >= 1)
    await actor.cycles(3)  # still INACTIVE for a while: no second email may come
    await actor.act("you re-authenticate (the consent is renewed); nothing else",
                    emu.restore_credentials, USER, archive)


async def _queue_lost(actor: Actor) -> None:
    await actor.submit()
    await actor.cycles(1)  # the watcher has seen the held compute job
    try:
        await actor.fault("the PBS queue is wiped: every job on the server is lost",
                          actor.world.sim.wipe)
    finally:
        actor.let_others_start()


async def _grafted(actor: Actor) -> None:
    task = await actor.act("you start a Globus transfer yourself (lab:/E/in/ -> scratch)",
                           actor.start_transfer_by_hand)
    await actor.submit(stage_in_task=task)


async def _graph(actor: Actor) -> None:
    """F: two inputs from two facilities, one failing once; a job after both, an array
    after it, two outputs. The collaborator's storage stalls, so its input's first task is
    still there to fail."""
    emu, collab = actor.world.emu, actor.world.endpoint("collab")
    await actor.fault("the collaborator's storage (endpoint 'collab') stalls",
                      emu.pause_endpoint, collab)
    try:
        await actor.submit_graph()
        first = await actor.until("the collab input's transfer", lambda view: bool(
            view.workflow.progress["steps"]["in-collab"].get("tasks")))
        task = first.workflow.progress["steps"]["in-collab"]["tasks"][0]
        await actor.fault("the stalled transfer of the collab input fails (ENDPOINT_ERROR)",
                          emu.fail_task, task, "ENDPOINT_ERROR", "collab disk went away")
    finally:
        await actor.act("the collaborator's storage is back", emu.resume_endpoint, collab)


# G: a "simulation" that checkpoints. Its first run needs longer than its walltime and is
# killed (-29); the shipped rule submits it again, and the second run finishes from the
# checkpoint the first one left.
CHECKPOINTED = """#!/bin/sh
# A simulation that checkpoints: it resumes from checkpoint.dat when it finds one.
cd "$PBS_O_WORKDIR"
mkdir -p out
if [ ! -f checkpoint.dat ]; then
    cksum in/* > checkpoint.dat
    sleep 30                     # more than its walltime: PBS kills it (exit -29)
fi
cp checkpoint.dat out/result.txt
"""


async def _walltime_kill(actor: Actor) -> None:
    await actor.submit()


async def _maintenance(actor: Actor) -> None:
    """A site's maintenance outage: the operator holds every job, PBS goes down, comes back,
    and the holds are lifted; the transfer goes on all along."""
    await actor.submit()
    await actor.cycles(1)  # the watcher has seen the held compute job
    sim = actor.world.sim
    released = False
    try:
        await actor.fault("maintenance: the operator puts every job on hold (qhold -h o)",
                          sim.operator_hold_all)
        await actor.fault("PBS stops answering (the server is down for maintenance)",
                          sim.stop)
        await actor.cycles(4)  # the watcher polls an unreachable PBS: unknown, not vanished
        await actor.act("the PBS server comes back", sim.start)
        await actor.until("the stage-in to succeed", lambda view: view.workflow.progress[
            "steps"]["stage-in"]["status"] == "succeeded")
        await actor.cycles(2)  # the watcher released compute: it stays held by the operator
        await actor.act("maintenance over: the operator releases the holds (qrls -h o)",
                        sim.operator_release_all)
        released = True
    finally:
        if not released:  # whatever broke, the other scenarios' jobs must not stay held
            await asyncio.to_thread(sim.start)
            await asyncio.to_thread(sim.operator_release_all)


SCENARIOS = (
    Scenario("A", "A-happy-path", "everything works", "lab", 4_000, _happy, (
        c.before(STAGED_IN, HELD_UNTIL, "compute held until the stage-in is in"),
        c.before(r"^compute job \S+ finished \(exit 0\)", "^stage-out started",
                 "stage-out after compute's exit 0"),
        c.pbs_jobs(1, "no cleanup job (it runs on failure only)"),
        c.emails(": done"),
        c.flag("output_arrived", True, "output in lab:/A/results/"),
        c.ends("done"))),
    Scenario("B", "B-stage-in-fails", "the stage-in fails", "lab", 400_000, _stage_in_fails, (
        c.job("compute", "deleted"),
        c.flag("compute_ran", False, "compute never runs"),
        c.job("cleanup", "exit 0"),
        c.flag("cleanup_ran", True, "cleanup.sh runs"),
        c.transfers("stage-out", 0, "no stage-out"),
        c.emails("failed at stage-in"),
        c.first_email_says("PERMISSION_DENIED"),
        c.ends("failed")), ends="failed"),
    Scenario("C", "C-credentials", "credentials expire during the stage-in", "archive",
             300_000, _credentials_expire, (
                 c.log_count("waits for credentials", 1, "stage-in INACTIVE (once)"),
                 c.emails("re-authenticate", ": done"),
                 c.first_email_says("watcher login"),
                 c.before("waits for credentials", STAGED_IN, "the same transfer goes on"),
                 c.transfers("stage-in", 1, "no second stage-in"),
                 c.flag("output_arrived", True, "output in archive:/C/results/"),
                 c.ends("done")), mails=2),
    Scenario("D", "D-lost-queue", "the PBS queue is wiped during the stage-in", "lab",
             900_000, _queue_lost, (
                 c.log_count("vanished from PBS", 1, "the held compute job vanishes"),
                 c.log_count(RESUBMITTED, 1, "compute resubmitted"),
                 c.pbs_jobs(1, "no second job"),
                 c.before(RESUBMITTED, STAGED_IN, "while the stage-in runs"),
                 c.transfers("stage-in", 1, "that transfer kept (no second)"),
                 c.emails(": done"),
                 c.flag("output_arrived", True, "output in lab:/D/results/"),
                 c.ends("done")), first=True),
    Scenario("E", "E-grafted", "a transfer you started is grafted", "lab", 4_000, _grafted, (
        c.log_count("^stage-in grafted", 1, "your transfer grafted as the stage-in"),
        c.transfers("stage-in", 1, "no stage-in started by watcher"),
        c.before(STAGED_IN, HELD_UNTIL, "compute held until it is in"),
        c.emails(": done"),
        c.flag("output_arrived", True, "output in lab:/E/results/"),
        c.ends("done"))),
    Scenario("F", "F-graph", "a graph: 2 inputs, 1 retried, a chained job, an array, "
             "2 outputs", "lab", 4_000, _graph, (
                 c.log_count(r"failed: ENDPOINT_ERROR.*starting it again", 1,
                             "the failed input is started again (once)"),
                 c.transfers("in-collab", 2, "as a new task with the same items"),
                 c.transfers("in-lab", 1, "the other input once"),
                 c.before(r"task \S+ succeeded \(", r"job \S+ released",
                          "prep held until its inputs are in"),
                 c.log_count(r"array job \S+ finished \(exit 0\)", 1,
                             "the array's 3 subjobs all exit 0"),
                 c.pbs_jobs(2, "prep and the array, once each"),
                 c.transfers("out-lab", 1, "one output to lab"),
                 c.transfers("out-collab", 1, "one to collab"),
                 c.emails(": done"),
                 c.flag("output_arrived", True, "outputs in lab:/F/results/, collab:/F/shared/"),
                 c.ends("done")), graph=True),
    Scenario("G", "G-walltime", "compute is killed by its walltime", "lab", 4_000,
             _walltime_kill, (
                 c.log_count(r"killed by its walltime \(exit -29\)", 1,
                             "compute killed by its walltime (-29)"),
                 c.log_count(RESUBMITTED, 1, "compute submitted again (once)"),
                 c.job("compute", "exit 0"),
                 c.pbs_jobs(2, "two jobs: compute twice"),
                 c.emails(": done"),
                 c.flag("output_arrived", True, "output in lab:/G/results/"),
                 c.ends("done")), compute=CHECKPOINTED, qsub=("-l", "walltime=00:00:02")),
    Scenario("H", "H-outage", "a maintenance outage: operator holds, PBS down", "lab",
             600_000, _maintenance, (
                 c.log_count("vanished from PBS", 0, "no job vanishes while PBS is down"),
                 c.log_count(RESUBMITTED, 0, "nothing submitted again"),
                 c.pbs_jobs(1, "no second job"),
                 c.transfers("stage-in", 1, "one stage-in"),
                 c.transfers("stage-out", 1, "one stage-out"),
                 c.before(STAGED_IN, HELD_UNTIL, "compute held until it is in"),
                 c.emails(": done"),
                 c.flag("output_arrived", True, "output in lab:/H/results/"),
                 c.ends("done"))),
)
