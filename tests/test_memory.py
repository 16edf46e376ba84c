"""`release_free_memory` gives a fragmented glibc heap back to the system."""

from __future__ import annotations

import platform

import pytest

from watcher.memory import release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    big = bytearray(b"x") * (16 << 20)
    del big  # freeing a 16 MB mapping raises glibc's mmap threshold past it...
    blocks = [bytearray(b"x") * (1 << 20) for _ in range(200)]  # ...so these come from the heap
    keep = blocks[-1]
    del blocks  # the top block stays: free() alone cannot shrink the heap
    before = _rss_mb()
    assert release_free_memory()
    assert before - _rss_mb() > 150
    assert len(keep) == 1 << 20
