from __future__ import annotations

from pathlib import Path

import pytest

from watcher.sim.globus.model import FileItem, Task
from watcher.sim.globus.progress import QuotaMeter, copy_chunk, disk_usage, queue_order


def item(tmp_path: Path, data: bytes) -> FileItem:
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    return FileItem(str(src), str(tmp_path / "out/dst.bin"), len(data))


def test_chunks_resume_at_their_offset(tmp_path: Path) -> None:
    one = item(tmp_path, b"0123456789")
    assert copy_chunk(one, 4) == 4
    assert copy_chunk(one, 100) == 6
    assert one.finished
    assert Path(one.dst).read_bytes() == b"0123456789"


def test_a_removed_partial_file_starts_over(tmp_path: Path) -> None:
    one = item(tmp_path, b"0123456789")
    copy_chunk(one, 4)
    Path(one.dst).unlink()
    copy_chunk(one, 3)
    assert (one.done, Path(one.dst).read_bytes()) == (3, b"012")


def test_a_shrunken_source_ends_the_file(tmp_path: Path) -> None:
    one = item(tmp_path, b"0123456789")
    Path(one.src).write_bytes(b"0123")
    copy_chunk(one, 100)
    assert one.finished and one.size == 4


def test_a_vanished_source_raises(tmp_path: Path) -> None:
    one = item(tmp_path, b"data")
    Path(one.src).unlink()
    with pytest.raises(FileNotFoundError):
        copy_chunk(one, 2)


def test_preserved_mtime(tmp_path: Path) -> None:
    one = item(tmp_path, b"data")
    one.mtime = 1_000_000.0
    copy_chunk(one, 10)
    assert Path(one.dst).stat().st_mtime == 1_000_000.0


def test_quota_meter_counts_writes_and_remeasures_when_full(tmp_path: Path) -> None:
    now = [0.0]
    meter = QuotaMeter(lambda: now[0])
    (tmp_path / "a").write_bytes(b"x" * 60)
    assert meter.room("ep", tmp_path, None) is None
    assert meter.room("ep", tmp_path, 100) == 40
    meter.wrote("ep", 40)
    assert meter.room("ep", tmp_path, 100) == 0
    (tmp_path / "a").unlink()  # someone frees space
    now[0] = 1.0
    assert meter.room("ep", tmp_path, 100) == 100
    assert disk_usage(tmp_path) == 0


def test_queue_order_is_per_user_oldest_first() -> None:
    def task(task_id: str, owner: str, at: float) -> Task:
        return Task(task_id, owner, task_id, "s", "d", at, at + 10)

    grouped = queue_order([task("b2", "bob", 2), task("a3", "al", 3), task("a1", "al", 1)])
    assert {k: [t.task_id for t in v] for k, v in grouped.items()} == {
        "al": ["a1", "a3"], "bob": ["b2"]}
