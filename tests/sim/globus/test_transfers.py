"""Task behaviour on a controlled clock: each `tick(dt)` is dt seconds of the world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from watcher.sim.globus.endpoints import EndpointRegistry
from watcher.sim.globus.errors import ApiError
from watcher.sim.globus.faults import Faults
from watcher.sim.globus.transfers import Transfers


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Bench:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.endpoints = EndpointRegistry(None)
        self.src = self.endpoints.add(tmp_path / "src").id
        self.dst = self.endpoints.add(tmp_path / "dst").id
        self.src_dir, self.dst_dir = tmp_path / "src", tmp_path / "dst"
        self.faults = Faults()
        self.transfers = Transfers(self.endpoints, self.faults, self.clock, bandwidth=100)
        self.serial = 0

    def file(self, name: str, size: int) -> str:
        (self.src_dir / name).write_bytes(b"x" * size)
        return f"/{name}"

    def submit(self, owner: str, *paths: str, **options: Any) -> str:
        self.serial += 1
        doc = {"DATA_TYPE": "transfer", "submission_id": f"sub-{self.serial}",
               "source_endpoint": self.src, "destination_endpoint": self.dst,
               "DATA": [{"source_path": p, "destination_path": p} for p in paths], **options}
        return self.transfers.submit(owner, doc)[0].task_id

    def tick(self, seconds: float = 1.0) -> None:
        self.clock.now += seconds
        self.transfers.tick(seconds)

    def task(self, task_id: str) -> Any:
        return self.transfers.tasks[task_id]


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    return Bench(tmp_path)


def test_bytes_move_at_the_bandwidth(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 250))
    bench.tick()
    assert (bench.task(task_id).bytes_transferred, bench.task(task_id).nice_status) == (100, "OK")
    bench.tick()
    bench.tick()
    task = bench.task(task_id)
    assert task.status == "SUCCEEDED" and task.completion_time == bench.clock.now
    assert (bench.dst_dir / "a").read_bytes() == b"x" * 250


def test_three_tasks_per_user_run_and_the_rest_queue(bench: Bench) -> None:
    mine = [bench.submit("u", bench.file(f"f{i}", 1000)) for i in range(5)]
    theirs = bench.submit("v", bench.file("g", 1000))
    bench.tick()
    moving = [bench.task(t).bytes_transferred > 0 for t in mine]
    assert moving == [True, True, True, False, False]
    assert [bench.task(t).nice_status for t in mine[3:]] == ["Queued", "Queued"]
    assert all(bench.task(t).status == "ACTIVE" for t in mine)
    assert bench.task(theirs).bytes_transferred == 100  # other users have their own slots


def test_a_queued_task_starts_when_a_slot_frees(bench: Bench) -> None:
    first = [bench.submit("u", bench.file(f"f{i}", 100)) for i in range(3)]
    late = bench.submit("u", bench.file("late", 100))
    bench.tick()
    assert all(bench.task(t).status == "SUCCEEDED" for t in first)
    assert bench.task(late).bytes_transferred == 0
    bench.tick()
    assert bench.task(late).status == "SUCCEEDED"


def test_a_paused_endpoint_stops_progress_and_frees_the_slot(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 1000))
    bench.tick()
    bench.faults.paused.add(bench.dst)
    bench.tick()
    task = bench.task(task_id)
    assert (task.is_paused, task.bytes_transferred, task.status) == (True, 100, "ACTIVE")
    bench.faults.paused.clear()
    bench.tick()
    assert (task.is_paused, task.bytes_transferred) == (False, 200)


def test_expired_credentials_make_tasks_inactive_until_restored(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 1000))
    bench.faults.expired.add(("u", bench.src))
    bench.tick()
    task = bench.task(task_id)
    assert (task.status, task.nice_status, task.bytes_transferred) == ("INACTIVE", "AUTH", 0)
    with pytest.raises(ApiError) as err:
        bench.submit("u", "/a")
    assert err.value.code == "ConsentRequired"
    assert bench.src in err.value.extra["required_scopes"][0]
    bench.faults.restore("u", None)
    bench.tick()
    assert (task.status, task.bytes_transferred) == ("ACTIVE", 100)


def test_quota_stalls_without_failing_then_resumes(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 300))
    bench.faults.quotas[bench.dst] = 150
    bench.tick()
    bench.tick()
    task = bench.task(task_id)
    assert (task.status, task.nice_status, task.bytes_transferred) == (
        "ACTIVE", "QUOTA_EXCEEDED", 150)
    assert task.faults == 1 and task.events[-1]["code"] == "QUOTA_EXCEEDED"
    del bench.faults.quotas[bench.dst]
    bench.tick()
    bench.tick()
    assert task.status == "SUCCEEDED"


def test_fail_on_quota_errors_fails_the_task(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 300), fail_on_quota_errors=True)
    bench.faults.quotas[bench.dst] = 0
    bench.tick()
    assert bench.task(task_id).fatal_error["code"] == "QUOTA_EXCEEDED"


def test_the_deadline_fails_a_stuck_task(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 300))
    bench.faults.paused.add(bench.src)
    bench.tick(24 * 3600)
    task = bench.task(task_id)
    assert task.status == "FAILED" and task.fatal_error["code"] == "DEADLINE_EXCEEDED"


def test_a_submission_id_runs_once(bench: Bench) -> None:
    doc = {"DATA_TYPE": "transfer", "submission_id": "same", "source_endpoint": bench.src,
           "destination_endpoint": bench.dst,
           "DATA": [{"source_path": bench.file("a", 10), "destination_path": "/a"}]}
    first, dup1 = bench.transfers.submit("u", doc)
    second, dup2 = bench.transfers.submit("u", doc)
    assert (first is second, dup1, dup2, len(bench.transfers.tasks)) == (True, False, True, 1)


def test_a_missing_source_fails_or_is_skipped(bench: Bench) -> None:
    failed = bench.submit("u", "/nope")
    assert bench.task(failed).fatal_error["code"] == "FILE_NOT_FOUND"
    skipped = bench.submit("u", "/nope", bench.file("b", 10), skip_source_errors=True)
    bench.tick()
    assert bench.task(skipped).status == "SUCCEEDED"
    assert bench.task(skipped).files_skipped == 1


@pytest.mark.parametrize(("doc", "code"), [
    ({"DATA": []}, "ClientError.BadRequest.NoTransferItems"),
    ({"destination_endpoint": "00000000-0000-0000-0000-000000000000"}, "EndpointNotFound"),
    ({"submission_id": None}, "ClientError.BadRequest"),
    ({"label": "two\nlines"}, "ClientError.BadRequest"),
    ({"sync_level": 9}, "ClientError.BadRequest"),
])
def test_bad_submissions_are_refused(bench: Bench, doc: dict[str, Any], code: str) -> None:
    full = {"DATA_TYPE": "transfer", "submission_id": "s", "source_endpoint": bench.src,
            "destination_endpoint": bench.dst,
            "DATA": [{"source_path": "/a", "destination_path": "/a"}], **doc}
    with pytest.raises(ApiError) as err:
        bench.transfers.submit("u", full)
    assert err.value.code == code


def test_cancel(bench: Bench) -> None:
    task_id = bench.submit("u", bench.file("a", 1000))
    assert bench.transfers.cancel(bench.task(task_id))[0] == "Canceled"
    assert bench.task(task_id).fatal_error["code"] == "CANCELED"
    assert bench.transfers.cancel(bench.task(task_id))[0] == "TaskComplete"
    with pytest.raises(ApiError):
        bench.transfers.owned("someone-else", task_id)
