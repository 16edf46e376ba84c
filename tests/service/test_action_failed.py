"""`action_failed` reaches the rules once per dead intent: born dead or dead after running, and
across a crash between the intent's death and the telling."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from tests.service.conftest import cycle_until
from watcher.events import ACTION_FAILED
from watcher.store.models import DEAD, EventRecord, Intent

RULES = """
rules:
  - name: release
    when: {pbs_job: {name: broken, state: H}}
    do: [{qrls: {job: "{{ vars.nowhere }}"}}]   # no such variable: the intent is born dead
  - name: on-failure
    when: {action_failed: release}
    do: [{qrls: {job: "{{ vars.canary }}"}}]
    vars: {canary: "%s"}
"""


def state(sim, job_id: str) -> str:  # type: ignore[no-untyped-def]
    return sim.qstat_json(job_id)["Jobs"][job_id]["job_state"]


def failures(service) -> list[EventRecord]:  # type: ignore[no-untyped-def]
    with service.store.session(write=False) as s:
        return list(s.exec(select(EventRecord).where(EventRecord.kind == ACTION_FAILED)))


def test_a_born_dead_intent_is_told_to_the_rules_once(sim, make_service, tmp_path: Path):
    canary = sim.qsub("sleep 30\n", "-h", cwd=tmp_path)
    service = make_service(RULES % canary)
    asyncio.run(service.cycle())  # the baseline poll
    sim.qsub("exit 0\n", "-N", "broken", "-h", cwd=tmp_path)
    cycle_until(service, lambda: state(sim, canary) != "H")
    for _ in range(3):
        asyncio.run(service.cycle())
    [told] = failures(service)
    assert told.current["rule"] == "release" and "nowhere" in told.current["error"]
    with service.store.session(write=False) as s:
        dead = s.exec(select(Intent).where(Intent.status == DEAD)).all()
    assert [i.rule for i in dead] == ["release"]


def test_a_crash_before_the_telling_tells_after_the_restart(sim, make_service, tmp_path: Path):
    canary = sim.qsub("sleep 30\n", "-h", cwd=tmp_path)
    first = make_service(RULES % canary)
    asyncio.run(first.cycle())
    sim.qsub("exit 0\n", "-N", "broken", "-h", cwd=tmp_path)
    [source] = first.sources
    obs = asyncio.run(source.poll())
    asyncio.run(first._write(first.commit_observation, source, obs))  # then the process dies
    assert failures(first) == [] and state(sim, canary) == "H"
    restarted = make_service(RULES % canary)
    cycle_until(restarted, lambda: state(sim, canary) != "H")
    for _ in range(3):
        asyncio.run(restarted.cycle())
    assert len(failures(restarted)) == 1
