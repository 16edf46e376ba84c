"""`watcher serve`: the same page and API over a store, read-only, beside `watcher run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http._served import Served, spec_yaml, start
from tests.workflows._staging import Staging


@pytest.fixture
def shown(world: Staging, tmp_path: Path) -> Iterator[Served]:
    running = start(world, tmp_path, command="serve")
    yield running
    assert running.stop() == 0, running.output()
    assert running.token not in running.output()  # never in a log line


def test_serve_shows_the_store_and_refuses_every_write(shown: Served, world: Staging) -> None:
    wf = world.submit(*world.stage_in_args())
    assert [row["id"] for row in shown.get("/api/v1/workflows")] == [wf]
    detail = shown.get(f"/api/v1/workflows/{wf}")
    [compute] = detail["jobs"].values()  # only compute: the cleanup runs on failure only
    assert detail["jobs"] == {"compute": compute} and world.job_state(compute) == "H"
    assert list(detail["tasks"]) == ["stage-in"]
    assert [s["name"] for s in detail["steps"]] == ["stage-in", "compute", "stage-out", "cleanup"]
    assert shown.call("GET", "/metrics").status_code == 200
    for method, path, body in (
            ("POST", "/api/v1/workflows", {"spec": spec_yaml(world), "workdir": "/"}),
            ("POST", f"/api/v1/workflows/{wf}/cancel", {}),
            ("POST", "/api/v1/silences", {"rule": "x", "for": "1h"}),
            ("DELETE", "/api/v1/silences/abc", None)):
        refused = shown.call(method, path, json=body)
        assert refused.status_code == 403, (method, path)
        assert refused.json()["error"]["code"] == "read_only"
    assert shown.get(f"/api/v1/workflows/{wf}")["step"] != "cancelled"
    assert shown.call("GET", "/api/v1/rules", token=None).status_code == 401
