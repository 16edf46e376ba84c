"""End to end: the real service with its Globus sources, the real globus-sdk, the emulator.

Rules see real transfer tasks, PBS jobs are acted on through the PBS simulator, mail goes to an
aiosmtpd sink; the watcher logs in from a token file, as after `watcher login`.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from sqlmodel import col, select

from tests.globus import _world
from tests.globus._world import USER, Globus
from tests.service.conftest import cycle_until
from tests.workflows import _staging
from watcher.config import Settings
from watcher.events import CREDENTIALS_EXPIRED, GLOBUS_TASK, SOURCE_DOWN, VANISHED
from watcher.mail.sink import SmtpSink
from watcher.service.service import Service
from watcher.sim.pbs.testing import PbsSim
from watcher.store.models import EventRecord, Firing, Intent, SourceHealth
from watcher.store.watch import watch

emu, globus = _world.emu, _world.globus  # the Globus world's fixtures
sink, settings = _staging.sink, _staging.settings  # and the staging tests' SMTP and settings
TASK_LIST = "GET /v0.10/task_list"


def cycle(service: Service, times: int = 1) -> None:
    for _ in range(times):
        asyncio.run(service.cycle())


def events(service: Service, kind: str) -> list[EventRecord]:
    with service.store.session(write=False) as s:
        return list(s.exec(select(EventRecord).where(EventRecord.kind == kind)
                           .order_by(col(EventRecord.id))).all())


def fired(service: Service, rule: str) -> list[Firing]:
    with service.store.session(write=False) as s:
        return list(s.exec(select(Firing).where(Firing.rule == rule)).all())


def watch_tasks(service: Service, *task_ids: str) -> None:
    with service.store.session() as s:
        for task_id in task_ids:
            watch(s, "globus", task_id, by="test")


def statuses(service: Service, task_id: str) -> list[str]:
    return [e.current["status"] for e in events(service, GLOBUS_TASK)
            if e.subject == task_id and e.current]


def test_a_stage_in_that_succeeds_releases_the_held_compute_job(
        globus: Globus, sim: PbsSim, make_service, tmp_path: Path) -> None:
    compute = sim.qsub("exit 0\n", "-N", "compute", "-h", cwd=tmp_path)
    task_id = globus.submit(size=10, label="stage-in")
    service = make_service(f"""
rules:
  - name: release-compute-after-stage-in
    when: {{globus_task: {{task: {task_id}, status: SUCCEEDED}}}}
    do: [{{qrls: {{job: "{compute}"}}}}]
""")
    assert service.globus is not None  # logged in: Globus joined the service
    cycle_until(service, lambda: sim.qstat_json(compute)["Jobs"][compute]["job_state"] != "H")
    with service.store.session(write=False) as s:
        [intent] = s.exec(select(Intent)).all()
    assert (intent.action_type, intent.status) == ("qrls", "done")
    cycle(service, 2)
    assert len(fired(service, "release-compute-after-stage-in")) == 1


RULES = """
rules:
  - name: tell-failed
    when: {globus_task: {label: "stage-*", status: FAILED}}
    do: [{email: {to: "{{ user.email }}", subject: "failed {{ event.subject }}"}}]
  - name: tell-inactive
    when: {globus_task: {label: "stage-*", status: INACTIVE}}
    do:
      - email: {to: "{{ user.email }}",
                subject: "inactive {{ event.attrs.label }} {{ event.subject }}"}
  - name: tell-done
    when: {globus_task: {label: "stage-*", status: SUCCEEDED}}
    do: [{email: {to: "{{ user.email }}", subject: "done {{ event.subject }}"}}]
"""


def test_inactive_mails_once_is_not_failure_and_the_resumed_task_succeeds_once(
        globus: Globus, make_service, sink: SmtpSink) -> None:
    globus.emu.set_bandwidth(200)
    task_id = globus.submit(size=100_000, label="stage-out")
    service = make_service(RULES)
    watch_tasks(service, task_id)
    cycle(service)
    globus.emu.expire_credentials(USER)
    cycle_until(service, lambda: len(sink.messages) == 1)
    assert sink.messages[0].message["Subject"] == f"inactive stage-out {task_id}"
    globus.emu.restore_credentials(USER)
    cycle_until(service, lambda: statuses(service, task_id)[-1:] == ["ACTIVE"])
    globus.emu.set_bandwidth(1e9)
    cycle_until(service, lambda: len(sink.messages) == 2)
    cycle(service, 2)
    assert [m.message["Subject"] for m in sink.messages] == [
        f"inactive stage-out {task_id}", f"done {task_id}"]
    assert fired(service, "tell-failed") == []
    assert "INACTIVE" in statuses(service, task_id)


def test_a_failed_task_fires_its_rule(globus: Globus, make_service, sink: SmtpSink) -> None:
    globus.emu.set_bandwidth(10)
    task_id = globus.submit(size=10_000, label="stage-in")
    service = make_service(RULES)
    watch_tasks(service, task_id)
    cycle(service)
    globus.emu.fail_task(task_id, "PERMISSION_DENIED")
    cycle_until(service, lambda: len(sink.messages) == 1)
    assert sink.messages[0].message["Subject"] == f"failed {task_id}"
    [event] = [e for e in events(service, GLOBUS_TASK) if e.current["status"] == "FAILED"]
    assert event.current["fatal_error"]["code"] == "PERMISSION_DENIED"


def test_two_second_access_tokens_through_a_long_wait(
        globus: Globus, make_service, sink: SmtpSink) -> None:
    globus.emu.set_token_lifetime(2)
    first = globus.log_in(lifetime=2)
    globus.emu.set_bandwidth(20_000)
    task_id = globus.submit(size=60_000, label="stage-in")  # about 3 s: past the token's life
    service = make_service(RULES)
    watch_tasks(service, task_id)
    cycle_until(service, lambda: len(sink.messages) == 1)
    with service.store.session(write=False) as s:
        health = s.get(SourceHealth, "globus")
    assert health is None or (health.failures == 0 and health.last_error is None)
    saved = globus.tokens.transfer_tokens()
    assert saved is not None and saved.refresh_token != first["refresh_token"]
    assert globus.emu.counters()["POST /v2/oauth2/token"] >= 2


def test_a_revoked_refresh_token_is_told_once_pauses_polling_and_resumes_after_login(
        globus: Globus, make_service, sink: SmtpSink) -> None:
    globus.emu.set_bandwidth(5_000)
    task_id = globus.submit(size=20_000, label="stage-in")
    service = make_service(RULES + """
  - name: login-again
    when: credentials_expired
    do: [{email: {to: "{{ user.email }}", subject: "run watcher login"}}]
""")
    watch_tasks(service, task_id)
    cycle(service)
    globus.emu.revoke_refresh_tokens(USER)
    globus.emu.expire_access_tokens(USER)
    cycle_until(service, lambda: len(sink.messages) == 1)
    assert sink.messages[0].message["Subject"] == "run watcher login"
    globus.emu.reset_counters()
    cycle(service, 5)  # paused: no hammering, no crash, no second message
    assert not any(route.startswith(("GET /v0.10", "POST /v2")) for route in
                   globus.emu.counters())
    assert len(sink.messages) == 1 and events(service, SOURCE_DOWN) == []
    globus.emu.set_bandwidth(1e9)
    globus.emu.wait_task(task_id, "SUCCEEDED")  # it went on while the watcher was paused
    globus.log_in()  # `watcher login` ran in another terminal
    cycle_until(service, lambda: len(sink.messages) == 2)
    assert sink.messages[1].message["Subject"] == f"done {task_id}"
    told = [e.current["expired"] for e in events(service, CREDENTIALS_EXPIRED)]
    assert told == [True, False]  # told once; the recovery closes the edge
    assert len(fired(service, "login-again")) == 1


def test_the_expired_edge_survives_a_restart(globus: Globus, make_service, sink) -> None:
    task_id = globus.submit(label="stage-in")
    rules = RULES + """
  - name: login-again
    when: credentials_expired
    do: [{email: {to: "{{ user.email }}", subject: "run watcher login"}}]
"""
    first = make_service(rules)
    watch_tasks(first, task_id)
    globus.emu.revoke_refresh_tokens(USER)
    globus.emu.expire_access_tokens(USER)
    cycle_until(first, lambda: len(sink.messages) >= 1)
    restarted = make_service(rules)
    cycle(restarted, 3)
    assert len(events(restarted, CREDENTIALS_EXPIRED)) == 1
    assert [m.message["Subject"] for m in sink.messages].count("run watcher login") == 1


def test_thirty_percent_429_and_503_make_no_false_event(
        globus: Globus, make_service, sink: SmtpSink) -> None:
    globus.emu.set_bandwidth(20_000)
    task_ids = [globus.submit(size=20_000, label="stage-in") for _ in range(3)]
    service = make_service(RULES)
    watch_tasks(service, *task_ids)
    globus.emu.flaky(429, share=0.3, service="all")
    cycle(service, 3)
    globus.emu.flaky(503, share=0.3, service="all")
    cycle_until(service, lambda: len(sink.messages) == 3)
    cycle(service, 2)
    assert globus.emu.counters()["injected 503"] > 0
    assert events(service, SOURCE_DOWN) == [] and events(service, CREDENTIALS_EXPIRED) == []
    assert all(e.change != VANISHED for e in events(service, GLOBUS_TASK))
    for task_id in task_ids:  # each status once, in order: no flapping from unknown polls
        seen = statuses(service, task_id)
        assert seen[-1] == "SUCCEEDED" and seen.count("SUCCEEDED") == 1
    assert sorted(m.message["Subject"] for m in sink.messages) == sorted(
        f"done {t}" for t in task_ids)


def test_a_hundred_watched_tasks_cost_a_few_task_lists_per_cycle(
        globus: Globus, make_service, settings: Settings) -> None:
    settings.globus.chunk = 40
    task_ids = [globus.submit(size=1) for _ in range(100)]
    service = make_service(RULES)
    watch_tasks(service, *task_ids)
    for _ in range(2):
        globus.emu.reset_counters()
        cycle(service)
        counts = globus.emu.counters()
        assert counts[TASK_LIST] <= math.ceil(100 / 40)
        assert not any(route.startswith("GET /v0.10/task/") for route in counts)
    appeared = {e.subject for e in events(service, GLOBUS_TASK) if e.change == "appeared"}
    assert appeared == set(task_ids)
