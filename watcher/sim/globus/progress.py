"""How tasks move: who may run (3 per user, the rest queue), copying a chunk, quota headroom.

`queue_order` is pure; `copy_chunk` and `QuotaMeter` touch the file system.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from watcher.sim.globus.model import FileItem, Task

MAX_ACTIVE_PER_USER = 3
_REMEASURE_AFTER = 0.5  # seconds between walks of a full endpoint (someone may free space)


def queue_order(tasks: Iterable[Task]) -> dict[str, list[Task]]:
    """Each user's runnable tasks, oldest first: the first ones take the user's slots."""
    by_owner: dict[str, list[Task]] = {}
    for task in sorted(tasks, key=lambda t: t.request_time):
        by_owner.setdefault(task.owner_id, []).append(task)
    return by_owner


def copy_chunk(item: FileItem, nbytes: int) -> int:
    """Copy up to `nbytes` more of `item`, in place at its offset; return bytes copied.

    A source that shrank ends the file early (its new size is what gets copied), like a
    transfer of a file that is being rewritten. Raises FileNotFoundError if the source is gone.
    """
    dst = Path(item.dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if item.done and not dst.exists():
        item.done = 0  # someone removed the partial file: start it again
    want = max(0, min(nbytes, item.size - item.done))
    with open(item.src, "rb") as src, open(dst, "r+b" if item.done else "wb") as out:
        src.seek(item.done)
        data = src.read(want)
        out.seek(item.done)
        out.write(data)
        out.truncate()
    if len(data) < want:
        item.size = item.done + len(data)  # the source is shorter than when it was planned
    item.done += len(data)
    if item.finished and item.mtime is not None:
        os.utime(dst, (item.mtime, item.mtime))
    return len(data)


class QuotaMeter:
    """Bytes used under each endpoint root: measured once, then counted as the emulator writes."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._usage: dict[str, int] = {}
        self._measured: dict[str, float] = {}

    def room(self, endpoint_id: str, root: Path, limit: int | None) -> int | None:
        """Bytes still allowed (None: no quota). A full endpoint is re-measured now and then."""
        if limit is None:
            return None
        now = self._clock()
        stale = now - self._measured.get(endpoint_id, -1e9) > _REMEASURE_AFTER
        if endpoint_id not in self._usage or (self._usage[endpoint_id] >= limit and stale):
            self._usage[endpoint_id] = disk_usage(root)
            self._measured[endpoint_id] = now
        return max(0, limit - self._usage[endpoint_id])

    def wrote(self, endpoint_id: str, nbytes: int) -> None:
        """Count bytes written under the endpoint, once its usage is measured."""
        if endpoint_id in self._usage:
            self._usage[endpoint_id] += nbytes

    def forget(self, endpoint_id: str) -> None:
        """Drop the endpoint's measured usage, so the next `room` measures again."""
        self._usage.pop(endpoint_id, None)


def disk_usage(root: Path) -> int:
    """The bytes of the files under `root`, as a quota counts them (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total
