"""Placement: which vnodes a queued job's chunks go to, first-fit in submission order (FIFO).

Each chunk goes on one vnode that has its non-consumable resources (`host=`, `vnode=`, custom
booleans and strings, checked first as the scheduler's is_vnode_eligible_chunk() does) and
enough free cpus, and of `mem`, `vmem` and `ngpus` when the vnode declares them (a vnode
without `ngpus` has none; one without `mem` is not limited by the simulator). `place=pack`
puts every chunk on one host, `scatter` one chunk per host,
`vscatter` one per vnode, `free` anywhere; `excl`/`exclhost` want vnodes nobody uses.

A job that does not fit now gets the scheduler's comment: "Not Running: ..." if it would fit
on the empty cluster, else "Can Never Run: ...". The reason follows check.cpp
match_resource(): `host (pbs-cc9 != node01)` for a non-consumable (the first vnode's value,
as the first failure is the one kept), `ncpus (R: 4 A: 0 T: 2)` for cpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from watcher.sim.pbs.cluster import VnodeSpec
from watcher.sim.pbs.resources import Chunk, size_kb, size_text

# Chunk resources that are amounts, not properties a vnode must match.
_AMOUNTS = ("ncpus", "mem", "vmem", "mpiprocs", "ompthreads", "ngpus", "naccelerators")
# Amounts placement accounts for besides ncpus (sizes in kb), and whether an undeclared one
# means "none" (ngpus) or "not modelled" (memory).
CONSUMABLES = {"mem": False, "vmem": False, "ngpus": True}
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
    used_amounts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.host = self.host or self.name

    @property
    def free(self) -> int:
        """The node's free cpus: none while an exclusive job holds it."""
        return 0 if self.exclusive else self.ncpus - self.used

    def total(self, name: str) -> int | None:
        """resources_available of a consumable (kb for sizes); None when not limited."""
        declared = self.resources.get(name)
        if declared is None:
            return 0 if CONSUMABLES[name] else None
        return amount(name, declared)

    def free_amount(self, name: str) -> int | None:
        """What is left of a consumable (kb for sizes), None when the node does not limit it."""
        total = self.total(name)
        return None if total is None else total - self.used_amounts.get(name, 0)

    def available(self, name: str) -> str:
        """resources_available.<name> as the scheduler compares it (unset boolean: False)."""
        if name == "host":
            return self.host
        if name == "vnode":
            return self.name
        return self.resources.get(name, "False")


def amount(name: str, value: str) -> int:
    """A consumable's value as a number: kb for sizes, a count for ngpus (0 if malformed)."""
    if name == "ngpus":
        return int(value) if value.isdigit() else 0
    return size_kb(value) or 0


def chunk_amounts(extra: dict[str, str]) -> dict[str, int]:
    """The consumables (besides ncpus) one chunk asks for."""
    return {n: amount(n, v) for n, v in extra.items() if n in CONSUMABLES}


def vnodes(specs: list[VnodeSpec], busy: list[list[Any]]) -> list[Vnode]:
    """The cluster as configured, minus what running jobs hold
    (`[vnode, index, ncpus, host, mpiprocs, amounts]`, older entries only the first three)."""
    nodes = {s.name: Vnode(s.name, s.ncpus, s.host, dict(s.resources)) for s in specs}
    for entry in busy:
        node = nodes.get(str(entry[0]))
        if node is not None:
            node.used += int(str(entry[2]))
            for name, value in (entry[5] if len(entry) > 5 else {}).items():
                node.used_amounts[name] = node.used_amounts.get(name, 0) + int(value)
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
    promised_amounts: dict[str, dict[str, int]] = {n.name: {} for n in nodes}
    targets: list[Vnode] = []
    for ncpus, extra in wanted:
        amounts = chunk_amounts(extra)
        node = next((n for n in nodes if _fits(n, promised[n.name], ncpus, exclusive)
                     and _has(n, promised_amounts[n.name], amounts)
                     and mismatch(n, extra) is None
                     and not ("scatter" in parts and n.host in {t.host for t in targets})
                     and not ("vscatter" in parts and n in targets)), None)
        if node is None:
            return None
        targets.append(node)
        promised[node.name] += ncpus
        for name, value in amounts.items():
            promised_amounts[node.name][name] = promised_amounts[node.name].get(name, 0) + value
    return targets


def _has(node: Vnode, pending: dict[str, int], amounts: dict[str, int]) -> bool:
    for name, value in amounts.items():
        free = node.free_amount(name)
        if free is not None and free - pending.get(name, 0) < value:
            return False
    return True


def _commit(targets: list[Vnode], wanted: list[tuple[int, dict[str, str]]],
            exclusive: bool) -> Placement:
    result: Placement = []
    for node, (ncpus, extra) in zip(targets, wanted, strict=True):
        result.append(Slot(node.name, node.used, ncpus, extra, node.host))
        node.used += ncpus
        for name, value in chunk_amounts(extra).items():
            node.used_amounts[name] = node.used_amounts.get(name, 0) + value
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
    eligible = [n for n in nodes if any(mismatch(n, c.extra) is None for c in chunks)]
    short = _short_amount(chunks, eligible, empty if prefix == "Can Never Run" else eligible)
    if short is not None:
        return f"{prefix}: Insufficient amount of resource: {short}"
    requested = sum(c.count * c.ncpus for c in chunks)
    available = sum(n.free for n in eligible)
    total = sum(n.ncpus for n in eligible)
    return (f"{prefix}: Insufficient amount of resource: ncpus "
            f"(R: {requested} A: {available} T: {total})")


def _short_amount(chunks: list[Chunk], eligible: list[Vnode], judged: list[Vnode]) -> str | None:
    """`ngpus (R: 4 A: 2 T: 2)` for the first consumable no eligible vnode has enough of;
    `judged` are the vnodes as they are now, or empty (for a job that can never run)."""
    names = {n.name for n in eligible}
    pool = [n for n in judged if n.name in names]
    for chunk in chunks:
        for name, value in chunk_amounts(chunk.extra).items():
            frees = [n.free_amount(name) for n in pool]
            if any(free is None or free >= value for free in frees):
                continue
            requested = sum(c.count * chunk_amounts(c.extra).get(name, 0) for c in chunks)
            available = sum(max(0, n.free_amount(name) or 0) for n in eligible)
            total = sum(n.total(name) or 0 for n in eligible)
            text = str if name == "ngpus" else size_text
            return f"{name} (R: {text(requested)} A: {text(available)} T: {text(total)})"
    return None
