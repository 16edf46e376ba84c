"""Placement: which vnodes a queued job's chunks go to, first-fit in submission order (FIFO).

Each chunk goes on one vnode that has its non-consumable resources (`host=`, `vnode=`, custom
booleans and strings, checked first as the scheduler's is_vnode_eligible_chunk() does) and
enough free cpus. `place=pack` puts every chunk on one host, `scatter` one chunk per host,
`vscatter` one per vnode, `free` anywhere; `excl`/`exclhost` want vnodes nobody uses.

A job that does not fit now gets the scheduler's comment: "Not Running: ..." if it would fit
on the empty cluster, else "Can Never Run: ...". The reason follows check.cpp
match_resource(): `host (pbs-cc9 != node01)` for a non-consumable (the first vnode's value,
as the first failure is the one kept), `ncpus (R: 4 A: 0 T: 2)` for cpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from watcher.sim.pbs.cluster import VnodeSpec
from watcher.sim.pbs.resources import Chunk

# Chunk resources that are amounts, not properties a vnode must match.
_AMOUNTS = ("ncpus", "mem", "vmem", "mpiprocs", "ompthreads", "ngpus", "naccelerators")
_TRUE = ("true", "t", "y", "yes", "1")


class Slot(NamedTuple):
    """One placed chunk: vnode, first cpu index on it, cpus, chunk resources, and its host."""

    vnode: str
    index: int
    ncpus: int
    extra: dict[str, str]
    host: str


Placement = list[Slot]


@dataclass
class Vnode:
    """A vnode and what running jobs use of it."""

    name: str
    ncpus: int
    host: str = ""
    resources: dict[str, str] = field(default_factory=dict)
    used: int = 0
    exclusive: bool = False

    def __post_init__(self) -> None:
        self.host = self.host or self.name

    @property
    def free(self) -> int:
        return 0 if self.exclusive else self.ncpus - self.used

    def available(self, name: str) -> str:
        """resources_available.<name> as the scheduler compares it (unset boolean: False)."""
        if name == "host":
            return self.host
        if name == "vnode":
            return self.name
        return self.resources.get(name, "False")


def vnodes(specs: list[VnodeSpec], busy: list[list[object]]) -> list[Vnode]:
    """The cluster as configured, minus what running jobs hold (`[vnode, index, ncpus, ...]`)."""
    nodes = {s.name: Vnode(s.name, s.ncpus, s.host, dict(s.resources)) for s in specs}
    for entry in busy:
        node = nodes.get(str(entry[0]))
        if node is not None:
            node.used += int(str(entry[2]))
    return list(nodes.values())


def mismatch(node: Vnode, extra: dict[str, str]) -> tuple[str, str, str] | None:
    """The first chunk property `node` lacks: (resource, requested, available), or None."""
    for name, wanted in extra.items():
        if name in _AMOUNTS:
            continue
        have = node.available(name)
        if name in ("host", "vnode"):
            same = wanted.lower() == have.lower()
        elif wanted.lower() in (*_TRUE, "false", "f", "n", "no", "0"):
            same = (wanted.lower() in _TRUE) == (have.lower() in _TRUE)
            wanted, have = str(wanted.lower() in _TRUE), str(have.lower() in _TRUE)
        else:
            same = wanted == have
        if not same:
            return name, wanted, have
    return None


def place(chunks: list[Chunk], place_spec: str, nodes: list[Vnode]) -> Placement | None:
    """Assign every chunk or nothing; `nodes` is updated only on success."""
    parts = set(place_spec.split(":"))
    exclusive = "excl" in parts or "exclhost" in parts
    wanted = [(c.ncpus, c.extra) for c in chunks for _ in range(c.count)]
    hosts = list(dict.fromkeys(n.host for n in nodes))
    candidates = [[n for n in nodes if n.host == h] for h in hosts] if "pack" in parts else [nodes]
    for group in candidates:
        targets = _assign(wanted, parts, exclusive, group)
        if targets is not None:
            return _commit(targets, wanted, exclusive)
    return None


def _assign(wanted: list[tuple[int, dict[str, str]]], parts: set[str], exclusive: bool,
            nodes: list[Vnode]) -> list[Vnode] | None:
    promised = {n.name: 0 for n in nodes}
    targets: list[Vnode] = []
    for ncpus, extra in wanted:
        node = next((n for n in nodes if _fits(n, promised[n.name], ncpus, exclusive)
                     and mismatch(n, extra) is None
                     and not ("scatter" in parts and n.host in {t.host for t in targets})
                     and not ("vscatter" in parts and n in targets)), None)
        if node is None:
            return None
        targets.append(node)
        promised[node.name] += ncpus
    return targets


def _commit(targets: list[Vnode], wanted: list[tuple[int, dict[str, str]]],
            exclusive: bool) -> Placement:
    result: Placement = []
    for node, (ncpus, extra) in zip(targets, wanted, strict=True):
        result.append(Slot(node.name, node.used, ncpus, extra, node.host))
        node.used += ncpus
        node.exclusive = node.exclusive or exclusive
    return result


def _fits(node: Vnode, pending: int, ncpus: int, exclusive: bool) -> bool:
    """Room for `ncpus` more on `node`, given `pending` cpus already promised to this job."""
    if exclusive:
        return node.used == 0 and not node.exclusive and node.ncpus - pending >= ncpus
    return node.free - pending >= ncpus


def why_not(chunks: list[Chunk], place_spec: str, nodes: list[Vnode]) -> str:
    """The comment a job gets while it waits."""
    empty = [Vnode(n.name, n.ncpus, n.host, n.resources) for n in nodes]
    prefix = "Not Running" if place(chunks, place_spec, empty) else "Can Never Run"
    for chunk in chunks:
        if nodes and all(mismatch(n, chunk.extra) for n in nodes):
            name, wanted, have = mismatch(nodes[0], chunk.extra) or ("", "", "")
            return f"{prefix}: Insufficient amount of resource: {name} ({wanted} != {have})"
    requested = sum(c.count * c.ncpus for c in chunks)
    eligible = [n for n in nodes if any(mismatch(n, c.extra) is None for c in chunks)]
    available = sum(n.free for n in eligible)
    total = sum(n.ncpus for n in eligible)
    return (f"{prefix}: Insufficient amount of resource: ncpus "
            f"(R: {requested} A: {available} T: {total})")
