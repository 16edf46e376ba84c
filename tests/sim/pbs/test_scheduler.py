"""Placement of chunks on vnodes, and the scheduler's comments for jobs that must wait."""

from __future__ import annotations

from watcher.sim.pbs.resources import Chunk
from watcher.sim.pbs.scheduler import place, vnodes, why_not


def test_first_fit_fifo_on_one_cpu_nodes() -> None:
    nodes = vnodes(2, 1, [])
    assert place([Chunk(1, 1)], "pack", nodes) == [("node01", 0, 1, {})]
    assert place([Chunk(1, 1)], "pack", nodes) == [("node02", 0, 1, {})]
    assert place([Chunk(1, 1)], "pack", nodes) is None


def test_scatter_needs_distinct_nodes_and_pack_one_node() -> None:
    assert place([Chunk(2, 1)], "scatter", vnodes(2, 4, [])) == [
        ("node01", 0, 1, {}), ("node02", 0, 1, {})]
    assert place([Chunk(2, 1)], "pack", vnodes(2, 4, [])) == [
        ("node01", 0, 1, {}), ("node01", 1, 1, {})]
    assert place([Chunk(3, 1)], "scatter", vnodes(2, 4, [])) is None


def test_busy_cpus_from_running_jobs_count_and_a_failed_placement_changes_nothing() -> None:
    nodes = vnodes(2, 2, [["node01", 0, 2]])
    assert place([Chunk(1, 3)], "free", nodes) is None
    assert [n.used for n in nodes] == [2, 0]
    assert place([Chunk(1, 2)], "free", nodes) == [("node02", 0, 2, {})]


def test_excl_wants_empty_nodes() -> None:
    nodes = vnodes(2, 4, [["node01", 0, 1]])
    assert place([Chunk(1, 1)], "free:excl", nodes) == [("node02", 0, 1, {})]
    assert place([Chunk(1, 1)], "free", nodes) == [("node01", 1, 1, {})]


def test_comments_say_whether_the_job_could_ever_run() -> None:
    nodes = vnodes(2, 1, [["node01", 0, 1], ["node02", 0, 1]])
    assert why_not([Chunk(1, 1)], "pack", nodes) == (
        "Not Running: Insufficient amount of resource: ncpus (R: 1 A: 0 T: 2)")
    assert why_not([Chunk(1, 4)], "pack", nodes) == (
        "Can Never Run: Insufficient amount of resource: ncpus (R: 4 A: 0 T: 2)")
