"""Placement of chunks on vnodes, and the scheduler's comments for jobs that must wait.

Comments follow OpenPBS src/scheduler/check.cpp match_resource(): "(R: x A: y T: z)" for an
amount, "(wanted != have)" for a non-consumable, the first vnode's failure being the one kept
(node_info.cpp eval_simple_selspec()); the prefix is constant.h NOT_RUN_PREFIX or
NEVER_RUN_PREFIX.
"""

from __future__ import annotations

from watcher.sim.pbs.cluster import VnodeSpec, from_settings, parse_vnode
from watcher.sim.pbs.resources import Chunk, parse_select
from watcher.sim.pbs.scheduler import Slot, place, vnodes, why_not


def plain(count: int, ncpus: int, busy: list[list[object]] | None = None) -> list:
    return vnodes(from_settings({"nodes": count, "ncpus_per_node": ncpus}), busy or [])


def slot(node: str, index: int, ncpus: int = 1, extra: dict | None = None) -> Slot:
    return Slot(node, index, ncpus, extra or {}, node)


def test_first_fit_fifo_on_one_cpu_nodes() -> None:
    nodes = plain(2, 1)
    assert place([Chunk(1, 1)], "pack", nodes) == [slot("node01", 0)]
    assert place([Chunk(1, 1)], "pack", nodes) == [slot("node02", 0)]
    assert place([Chunk(1, 1)], "pack", nodes) is None


def test_scatter_needs_distinct_hosts_and_pack_one_host() -> None:
    assert place([Chunk(2, 1)], "scatter", plain(2, 4)) == [slot("node01", 0), slot("node02", 0)]
    assert place([Chunk(2, 1)], "pack", plain(2, 4)) == [slot("node01", 0), slot("node01", 1)]
    assert place([Chunk(3, 1)], "scatter", plain(2, 4)) is None


def test_scatter_is_per_host_and_vscatter_per_vnode() -> None:
    specs = [parse_vnode("cn001[0]:host=cn001:ncpus=2"), parse_vnode("cn001[1]:host=cn001:ncpus=2")]
    assert place([Chunk(2, 1)], "scatter", vnodes(specs, [])) is None
    placed = place([Chunk(2, 1)], "vscatter", vnodes(specs, []))
    assert [(s.vnode, s.host) for s in placed or []] == [("cn001[0]", "cn001"),
                                                          ("cn001[1]", "cn001")]


def test_busy_cpus_from_running_jobs_count_and_a_failed_placement_changes_nothing() -> None:
    nodes = plain(2, 2, [["node01", 0, 2]])
    assert place([Chunk(1, 3)], "free", nodes) is None
    assert [n.used for n in nodes] == [2, 0]
    assert place([Chunk(1, 2)], "free", nodes) == [slot("node02", 0, 2)]


def test_excl_wants_empty_nodes() -> None:
    nodes = plain(2, 4, [["node01", 0, 1]])
    assert place([Chunk(1, 1)], "free:excl", nodes) == [slot("node02", 0)]
    assert place([Chunk(1, 1)], "free", nodes) == [slot("node01", 1)]


def test_host_and_vnode_requests_land_on_the_named_vnode() -> None:
    nodes = plain(3, 1)
    assert place(parse_select("1:ncpus=1:host=node02"), "free", nodes) == [
        slot("node02", 0, 1, {"host": "node02"})]
    assert place(parse_select("1:vnode=NODE03"), "free", nodes) == [
        slot("node03", 0, 1, {"vnode": "NODE03"})]
    assert place(parse_select("1:host=node02"), "free", nodes) is None  # busy now


def test_custom_booleans_and_strings_must_match() -> None:
    nodes = vnodes([VnodeSpec("a", "a", 1), VnodeSpec("b", "b", 1, {"bigmem": "True",
                                                                    "arch": "linux"})], [])
    assert place(parse_select("1:bigmem=True:arch=linux"), "free", nodes)[0].vnode == "b"


def test_comments_say_whether_the_job_could_ever_run() -> None:
    nodes = plain(2, 1, [["node01", 0, 1], ["node02", 0, 1]])
    assert why_not([Chunk(1, 1)], "pack", nodes) == (
        "Not Running: Insufficient amount of resource: ncpus (R: 1 A: 0 T: 2)")
    assert why_not([Chunk(1, 4)], "pack", nodes) == (
        "Can Never Run: Insufficient amount of resource: ncpus (R: 4 A: 0 T: 2)")


def test_a_host_nobody_has_can_never_run_and_says_which() -> None:
    nodes = plain(2, 1)
    assert why_not(parse_select("1:ncpus=1:host=pbs-cc9"), "scatter", nodes) == (
        "Can Never Run: Insufficient amount of resource: host (pbs-cc9 != node01)")
    assert why_not(parse_select("1:ncpus=1:bigmem=True"), "scatter", nodes) == (
        "Can Never Run: Insufficient amount of resource: bigmem (True != False)")
    busy = plain(2, 1, [["node02", 0, 1]])
    assert why_not(parse_select("1:host=node02"), "free", busy) == (
        "Not Running: Insufficient amount of resource: ncpus (R: 1 A: 0 T: 1)")


def test_gpus_and_memory_a_vnode_declares_are_consumed() -> None:
    specs = [parse_vnode("cpu01:ncpus=4:mem=8gb"), parse_vnode("gpu01:ncpus=4:ngpus=2:mem=16gb")]
    nodes = vnodes(specs, [])
    assert place(parse_select("1:ngpus=1"), "free", nodes)[0].vnode == "gpu01"
    assert place(parse_select("1:mem=12gb"), "free", nodes)[0].vnode == "gpu01"
    assert place(parse_select("1:ngpus=2"), "free", nodes) is None  # one of two is in use
    assert why_not(parse_select("1:ngpus=2"), "free", nodes) == (
        "Not Running: Insufficient amount of resource: ngpus (R: 2 A: 1 T: 2)")
    assert why_not(parse_select("1:mem=32gb"), "free", nodes) == (
        "Can Never Run: Insufficient amount of resource: mem (R: 32gb A: 12gb T: 24gb)")
    busy = vnodes(specs, [["gpu01", 0, 1, "gpu01", 1, {"ngpus": 2}]])
    assert place(parse_select("1:ngpus=1"), "free", busy) is None


def test_a_cluster_without_gpus_can_never_run_a_gpu_job() -> None:
    assert why_not(parse_select("1:ngpus=1"), "pack", plain(2, 4)) == (
        "Can Never Run: Insufficient amount of resource: ngpus (R: 1 A: 0 T: 0)")
    assert place(parse_select("1:mem=500gb"), "pack", plain(2, 4)) is not None  # not modelled
