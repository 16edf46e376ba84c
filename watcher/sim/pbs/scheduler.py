"""Placement: which vnodes a queued job's chunks go to, first-fit in submission order (FIFO).

Every vnode has `ncpus_per_node` cpus. `place=pack` puts all chunks on one vnode, `scatter` one
chunk per vnode, `free` anywhere; `excl` wants vnodes nobody uses. A job that does not fit now
gets the scheduler's comment, "Not Running: ..." or, if it could never fit, "Can Never Run: ...".
"""

from __future__ import annotations

from dataclasses import dataclass

from watcher.sim.pbs.resources import Chunk

Placement = list[tuple[str, int, int, dict[str, str]]]


@dataclass
class Vnode:
    name: str
    ncpus: int
    used: int = 0
    exclusive: bool = False

    @property
    def free(self) -> int:
        return 0 if self.exclusive else self.ncpus - self.used


def vnodes(count: int, ncpus: int, busy: list[list[object]]) -> list[Vnode]:
    """The cluster: `node01`..`nodeNN`, minus what running jobs hold (`[name, index, ncpus]`)."""
    nodes = {f"node{i:02d}": Vnode(f"node{i:02d}", ncpus) for i in range(1, count + 1)}
    for name, _index, used in busy:
        node = nodes.get(str(name))
        if node is not None:
            node.used += int(str(used))
    return list(nodes.values())


def place(chunks: list[Chunk], place_spec: str, nodes: list[Vnode]) -> Placement | None:
    """Assign every chunk or nothing; `nodes` is updated only on success."""
    parts = set(place_spec.split(":"))
    exclusive = "excl" in parts or "exclhost" in parts
    wanted = [(c.ncpus, c.extra) for c in chunks for _ in range(c.count)]
    extra_use = {n.name: 0 for n in nodes}
    targets: list[Vnode] = []
    if "pack" in parts:
        total = sum(ncpus for ncpus, _ in wanted)
        node = next((n for n in nodes if _fits(n, 0, total, exclusive)), None)
        if node is None:
            return None
        targets = [node] * len(wanted)
    else:
        for ncpus, _ in wanted:
            node = next((n for n in nodes if _fits(n, extra_use[n.name], ncpus, exclusive)
                         and not ("scatter" in parts and n in targets)), None)
            if node is None:
                return None
            targets.append(node)
            extra_use[node.name] += ncpus
    result: Placement = []
    for node, (ncpus, extra) in zip(targets, wanted, strict=True):
        result.append((node.name, node.used, ncpus, extra))
        node.used += ncpus
        node.exclusive = node.exclusive or exclusive
    return result


def _fits(node: Vnode, pending: int, ncpus: int, exclusive: bool) -> bool:
    """Room for `ncpus` more on `node`, given `pending` cpus already promised to this job."""
    if exclusive:
        return node.used == 0 and not node.exclusive and node.ncpus - pending >= ncpus
    return node.free - pending >= ncpus


def why_not(chunks: list[Chunk], place_spec: str, nodes: list[Vnode]) -> str:
    """The comment a job gets while it waits for cpus."""
    requested = sum(c.count * c.ncpus for c in chunks)
    available = sum(n.free for n in nodes)
    total = sum(n.ncpus for n in nodes)
    empty = [Vnode(n.name, n.ncpus) for n in nodes]
    prefix = "Not Running" if place(chunks, place_spec, empty) else "Can Never Run"
    return (f"{prefix}: Insufficient amount of resource: ncpus "
            f"(R: {requested} A: {available} T: {total})")
