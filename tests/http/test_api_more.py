"""The API's other routes against `watcher run --listen`: cancel, silences, rules, firings,
sources, dead actions, answering what the CLI's --json answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http._served import Served, eventually, spec_yaml, start
from tests.workflows._staging import Staging

RULES = """
rules:
  - name: tell-me-done
    when: {pbs_job: {owner: me, state: F}}
    do: [{email: {to: me@example.org, subject: "{{ job.id }} ended"}}]
"""


@pytest.fixture
def served(world: Staging, tmp_path: Path) -> Iterator[Served]:
    running = start(world, tmp_path, rules_text=RULES)
    yield running
    assert running.stop() == 0, running.output()
    assert running.token not in running.output()  # never in a log line


def test_cancel_from_the_api_deletes_the_jobs_and_says_what_it_did(
        served: Served, world: Staging) -> None:
    # A compute that runs for a while: held or running when the cancel comes, never ending
    # under it (a qdel of a job PBS is ending is refused, and the cancel must be repeated).
    (world.run_dir / "slow.sh").write_text("#!/bin/sh\nsleep 30\n")
    (world.run_dir / "slow.sh").chmod(0o755)
    answer = served.call("POST", "/api/v1/workflows", headers={
        "Content-Type": "application/yaml"}, data=spec_yaml(world).replace(
            "compute.sh", "slow.sh"), params={"workdir": str(world.run_dir)})
    assert answer.status_code == 201, answer.text
    wf = answer.json()["workflow"]
    cancelled = served.call("POST", f"/api/v1/workflows/{wf}/cancel",
                            json={"reason": "wrong inputs"})
    assert cancelled.status_code == 200, cancelled.text
    detail = served.get(f"/api/v1/workflows/{wf}")
    assert detail["step"] == "cancelled" and detail["ended"]
    [compute] = detail["jobs"].values()  # the cleanup job was never submitted: none to delete
    assert detail["jobs"] == {"compute": compute}
    done = cancelled.json()["done"]
    assert f"compute job {compute} deleted" in done
    assert not any("cleanup" in line for line in done), done
    eventually(lambda: world.job_state(compute) == "F")  # a held one at once, a running one
    assert world.sim.qstat_json(compute)["Jobs"][compute].get("Exit_status") != 0  # killed
    assert any("wrong inputs" in line["text"] for line in detail["log"])
    ended = served.call("POST", f"/api/v1/workflows/{wf}/cancel")
    assert ended.status_code == 200  # cancelling again finishes quietly
    assert served.call("POST", "/api/v1/workflows/wf-000000/cancel").status_code == 404


def test_silences_are_added_listed_and_removed_as_the_cli_does(
        served: Served, world: Staging, tmp_path: Path) -> None:
    added = served.call("POST", "/api/v1/silences", json={"rule": "tell-me-*", "for": "2h",
                                                          "comment": "maintenance"})
    assert added.status_code == 201, added.text
    silence = added.json()
    listed = world.cli("silence", "list", "--json")
    assert json.loads(listed.stdout) == served.get("/api/v1/silences") == [silence]
    removed = served.call("DELETE", f"/api/v1/silences/{silence['id']}")
    assert removed.status_code == 200 and not removed.json()["active"]
    assert served.get("/api/v1/silences") == []
    assert len(served.get("/api/v1/silences?all=true")) == 1
    assert served.call("DELETE", "/api/v1/silences/nosuch").status_code == 404


def test_rules_firings_sources_and_dead_actions_answer_what_the_cli_answers(
        served: Served, world: Staging, tmp_path: Path) -> None:
    world.sim.qsub("#!/bin/sh\ntrue\n", "-N", "quick", cwd=world.run_dir)
    eventually(lambda: served.get("/api/v1/firings"))
    rules_dir = tmp_path / "served-rules"
    cli_rules = json.loads(world.cli("rules", "list", "--json", "--rules",
                                     str(rules_dir)).stdout)
    api_rules = served.get("/api/v1/rules")
    assert [r["name"] for r in api_rules] == ["tell-me-done"]
    assert api_rules[0].keys() == cli_rules[0].keys()
    assert api_rules[0]["fire_count"] >= 1
    cli_history = json.loads(world.cli("history", "--json").stdout)
    api_history = served.get("/api/v1/firings")
    assert api_history[0].keys() == cli_history[0].keys()
    assert [f["rule"] for f in api_history] == [f["rule"] for f in cli_history]
    sources = served.get("/api/v1/sources")
    assert {"sources", "instances", "credentials"} == set(sources)
    assert {s["source"] for s in sources["sources"]} >= {"pbs"}
    assert sources["credentials"][0]["state"] == "ok"
    assert served.token not in json.dumps(sources)
    assert served.get("/api/v1/dead-actions") == []
    status = served.get("/api/v1/status")
    cli_status = json.loads(world.cli("status", "--json", "--rules", str(rules_dir)).stdout)
    assert set(status) == set(cli_status)


def test_retry_from_the_api_runs_again_what_failed(served: Served, world: Staging) -> None:
    (world.run_dir / "flaky.sh").write_text(
        "#!/bin/sh\ncd \"$PBS_O_WORKDIR\"\n[ -e fixed ] || exit 4\necho ok > flaky-ran\n")
    (world.run_dir / "flaky.sh").chmod(0o755)
    spec = ("name: flaky\nsteps:\n  prep: {job: compute.sh, after: [fetch]}\n"
            f"  fetch: {{transfer: {{from: '{world.src}:/in/', to: '{world.dst}:/run/in/'}}}}\n"
            "  sim: {job: flaky.sh, after: [prep]}\n")
    answer = served.call("POST", "/api/v1/workflows", data=spec,
                         headers={"Content-Type": "application/yaml"},
                         params={"workdir": str(world.run_dir)})
    assert answer.status_code == 201, answer.text
    wf = answer.json()["workflow"]
    eventually(lambda: served.get(f"/api/v1/workflows/{wf}")["step"] == "failed", 60)
    detail = served.get(f"/api/v1/workflows/{wf}")
    assert {s["name"]: s["status"] for s in detail["steps"]} == {
        "fetch": "succeeded", "prep": "succeeded", "sim": "failed"}
    assert [s["after"] for s in detail["steps"]] == [["fetch"], [], ["prep"]]
    refused = served.call("POST", f"/api/v1/workflows/{wf}/retry", json={"steps": ["perp"]})
    assert refused.status_code == 409 and "no step 'perp'" in refused.text
    (world.run_dir / "fixed").touch()
    retried = served.call("POST", f"/api/v1/workflows/{wf}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["steps"] == ["sim"]
    eventually(lambda: served.get(f"/api/v1/workflows/{wf}")["step"] == "done", 60)
    assert (world.run_dir / "flaky-ran").exists()
