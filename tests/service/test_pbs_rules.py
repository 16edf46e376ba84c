"""End to end on the PBS simulator: rules see real jobs and act on them through real commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from tests.service.conftest import cycle_until
from watcher.events import PBS_JOB, SOURCE_DOWN, SOURCE_UP
from watcher.store.models import EventRecord, Intent

RELEASE = """
rules:
  - name: release-compute
    when: {pbs_job: {name: stage-in, state: F, exit_status: 0}}
    do: [{qrls: {job: "{{ job.variables.COMPUTE }}"}}]
"""


def state(sim, job_id: str) -> str:
    return sim.qstat_json(job_id)["Jobs"][job_id]["job_state"]


def intents(service):
    with service.store.session() as s:
        return s.exec(select(Intent)).all()


def test_a_held_job_is_released_when_another_finishes_with_exit_0(sim, make_service, tmp_path):
    service = make_service(RELEASE)
    compute = sim.qsub("exit 0\n", "-N", "compute", "-h", cwd=tmp_path)
    sim.qsub("sleep 0.3\n", "-N", "stage-in", "-v", f"COMPUTE={compute}", cwd=tmp_path)
    cycle_until(service, lambda: state(sim, compute) != "H")
    assert sim.wait_for(compute)["Exit_status"] == 0
    [intent] = intents(service)
    assert (intent.action_type, intent.status, intent.params["job"]) == ("qrls", "done", compute)


def test_a_failed_stage_in_releases_nothing(sim, make_service, tmp_path):
    service = make_service(RELEASE)
    compute = sim.qsub("exit 0\n", "-N", "compute", "-h", cwd=tmp_path)
    stage_in = sim.qsub("exit 3\n", "-N", "stage-in", "-v", f"COMPUTE={compute}", cwd=tmp_path)
    sim.wait_for(stage_in)
    for _ in range(3):
        asyncio.run(service.cycle())
    assert state(sim, compute) == "H" and intents(service) == []


def test_a_walltime_kill_triggers_its_rule(sim, make_service, tmp_path):
    service = make_service("""
rules:
  - name: hold-follower-on-walltime
    when: {pbs_job: {name: "sim-*", exit_status: -29}}
    do: [{qhold: {job: "{{ job.variables.FOLLOWER }}"}}]
""")
    follower = sim.qsub("exit 0\n", "-N", "follower", "-h", cwd=tmp_path)
    killed = sim.qsub("sleep 30\n", "-N", "sim-long", "-l", "walltime=00:00:01",
                      "-v", f"FOLLOWER={follower}", cwd=tmp_path)
    cycle_until(service, lambda: any(i.status == "done" for i in intents(service)))
    assert sim.qstat_json(killed)["Jobs"][killed]["Exit_status"] == -29
    assert intents(service)[0].params == {"job": follower, "hold": "u"}


def test_for_window_fires_on_a_job_held_too_long_and_survives_a_restart(
        sim, make_service, tmp_path):
    rules = """
rules:
  - name: held-too-long
    when: {pbs_job: {name: stuck, state: H}}
    for: 5s
    do: [{qrls: {job: "{{ job.id }}"}}]
"""
    first = make_service(rules)
    job = sim.qsub("exit 0\n", "-N", "stuck", "-h", cwd=tmp_path)
    asyncio.run(first.cycle())
    assert intents(first) == []  # the window is open, nothing fired yet
    restarted = make_service(rules)  # a new process: same store, fresh memory
    cycle_until(restarted, lambda: state(sim, job) != "H", timeout=25)
    for _ in range(3):
        asyncio.run(restarted.cycle())
    assert [i.action_type for i in intents(restarted)] == ["qrls"]


def test_pbs_down_gives_no_false_events_and_rules_act_after_it_returns(
        sim, make_service, tmp_path):
    service = make_service(RELEASE + """
  - name: tell-down
    when: {source_down: pbs}
    do: [{qdel: {job: "{{ vars.canary }}"}}]
    vars: {canary: "0"}
""")
    compute = sim.qsub("exit 0\n", "-N", "compute", "-h", cwd=tmp_path)
    asyncio.run(service.cycle())
    sim.stop()
    for _ in range(3):
        asyncio.run(service.cycle())
    with service.store.session() as s:
        kinds = [(e.kind, e.change) for e in s.exec(select(EventRecord)).all()]
    assert (PBS_JOB, "vanished") not in kinds
    assert kinds.count((SOURCE_DOWN, "changed")) == 1
    sim.start()
    sim.qsub("exit 0\n", "-N", "stage-in", "-v", f"COMPUTE={compute}", cwd=tmp_path)
    cycle_until(service, lambda: state(sim, compute) != "H")
    with service.store.session() as s:
        assert s.exec(select(EventRecord).where(EventRecord.kind == SOURCE_UP)).all()


def test_a_broken_rule_file_leaves_the_other_files_running(sim, make_service, tmp_path: Path):
    service = make_service({"good.yaml": RELEASE, "bad.yaml": "rules:\n  - name: x\n    when: {"})
    assert [r.name for r in service.rulebook.rules] == ["release-compute"]
    bad = service.rulebook.files[tmp_path / "rules" / "bad.yaml"]
    assert not bad.valid and "invalid YAML" in str(bad.errors[0])
    compute = sim.qsub("exit 0\n", "-N", "compute", "-h", cwd=tmp_path)
    sim.qsub("exit 0\n", "-N", "stage-in", "-v", f"COMPUTE={compute}", cwd=tmp_path)
    cycle_until(service, lambda: state(sim, compute) != "H")


def test_an_edited_file_that_breaks_keeps_its_last_good_version(sim, make_service, tmp_path):
    service = make_service(RELEASE)
    (tmp_path / "rules" / "rules.yaml").write_text(RELEASE.replace("qrls", "qrel"))
    assert service.reload_rules()
    assert [r.name for r in service.rulebook.rules] == ["release-compute"]
    assert service.rulebook.files[tmp_path / "rules" / "rules.yaml"].stale
