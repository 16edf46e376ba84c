"""`/metrics` parsed with prometheus_client's own parser, its values checked against what the
simulators counted and what the store says happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from tests.http._served import Served, eventually, spec_yaml, start
from tests.workflows._staging import Staging
from watcher.globus.login_info import LoginInfo, record_login
from watcher.store.models import EventRecord


def scrape(served: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = served.call("GET", "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def total(samples: dict, name: str, **labels: str) -> float:
    return sum(value for (n, got), value in samples.items() if n == name
               and all(dict(got).get(k) == v for k, v in labels.items()))


def counted_up_to(samples: dict, pbs: Counter[str]) -> dict | None:
    """The scrape, once it counts every qstat and qselect the simulator had logged and the
    run of every action a rule fired (an action is counted when its run returns, after its
    work is in the store)."""
    caught_up = all(total(samples, "watcher_pbs_commands_total", command=command) >= pbs[command]
                    for command in ("qstat", "qselect"))
    acted = total(samples, "watcher_actions_total") >= total(samples, "watcher_firings_total")
    return samples if caught_up and acted else None


def stored_events(world: Staging) -> Counter[str]:
    """The events in the store, by kind."""
    with world.service.store.session(write=False) as session:
        return Counter(event.kind for event in session.exec(select(EventRecord)).all())


@pytest.fixture
def served(world: Staging, tmp_path: Path) -> Iterator[Served]:
    world.sim.configure(count_requests=True)  # from before the watcher's first poll
    record_login(world.globus.settings.token_db, LoginInfo(  # logged in 10 days ago
        client_id=world.globus.settings.client_id,
        logged_in_at=datetime.now(UTC) - timedelta(days=10)))
    world.globus.emu.reset_counters()
    running = start(world, tmp_path)
    yield running
    assert running.stop() == 0, running.output()
    assert running.token not in running.output()  # never in a log line


def test_metrics_parse_and_match_the_simulators_and_the_store(
        served: Served, world: Staging) -> None:
    answer = served.call("POST", "/api/v1/workflows", json={
        "spec": spec_yaml(world), "workdir": str(world.run_dir)})
    assert answer.status_code == 201, answer.text
    wf = answer.json()["workflow"]
    eventually(lambda: served.get(f"/api/v1/workflows/{wf}")["step"] == "done")
    eventually(lambda: total(scrape(served), "watcher_workflows", step="done") == 1)
    before = scrape(served)
    pbs = Counter(line["command"] for line in world.sim.requests())
    globus = sum(n for route, n in world.globus.emu.counters().items() if " /v0.10/" in route)
    # The simulator logs a command as it starts and the watcher counts it as it returns: a
    # poll's command in flight at the count is in the second scrape once it has returned.
    after = eventually(lambda: counted_up_to(scrape(served), pbs), 10)
    for command in ("qstat", "qselect"):  # each poll's commands, as the server served them
        assert pbs[command] > 0
        assert (total(before, "watcher_pbs_commands_total", command=command) <= pbs[command]
                <= total(after, "watcher_pbs_commands_total", command=command))
    # One job, compute: the cleanup job is submitted only if the stage-in or compute fails.
    assert total(after, "watcher_pbs_commands_total", command="qsub", outcome="ok") == 1
    assert total(after, "watcher_pbs_commands_total", command="qsub") == 1
    assert total(after, "watcher_pbs_commands_total", command="qrls", outcome="ok") == 1
    assert total(after, "watcher_pbs_commands_total", command="qdel") == 0  # no cleanup held
    assert globus > 0
    assert (total(before, "watcher_globus_requests_total", service="transfer") <= globus
            <= total(after, "watcher_globus_requests_total", service="transfer"))
    assert total(after, "watcher_globus_requests_total", method="POST",
                 route="/v0.10/transfer") == 2  # stage-in and stage-out, once each
    # The three staging rules: compute's end once, the stage-in's and the stage-out's ends;
    # advance_workflow does each step's work (release compute, start the stage-out, finish).
    assert total(after, "watcher_firings_total", rule="workflow-job-ended") == 1
    assert total(after, "watcher_firings_total", rule="workflow-transfer-ended") == 2
    assert total(after, "watcher_firings_total") == 3
    assert total(after, "watcher_actions_total", type="advance_workflow", outcome="done") == 3
    assert total(after, "watcher_actions_total") == 3
    # Each event the store holds counted once: compute's (one job; polls may have caught it
    # held, running or only finished), the stage-in's and the stage-out's.
    stored = stored_events(world)
    assert total(after, "watcher_events_total", kind="pbs_job") == stored["pbs_job"] >= 1
    assert total(after, "watcher_events_total", kind="globus_task") == stored["globus_task"] >= 2
    assert total(after, "watcher_source_up", source="pbs") == 1
    assert total(after, "watcher_intents", status="dead") == 0
    polls = total(after, "watcher_polls_total", source="pbs")
    assert polls > 0 and total(after, "watcher_poll_duration_seconds_count", source="pbs") == polls
    lapse = total(after, "watcher_globus_refresh_token_lapse_seconds")
    assert 169 * 86400 < lapse <= 170 * 86400 or lapse > 179 * 86400  # refreshed meanwhile
