"""`qsub -l` resource requests, turned into a Resource_List and placement chunks as PBS does.

PBS converts every request to chunks: `-l select=2:ncpus=4` is two chunks of 4 cpus, the old
`-l nodes=2:ppn=1` becomes `select=2:ncpus=1` with `place=scatter` (see nodespec), and a job
that asks for nothing gets `select=1:ncpus=1`, `place=pack`. Consumable chunk resources are
summed into the job-wide list (ncpus, mem, mpiprocs, ...), and `nodect` counts the chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from watcher.sim.pbs import nodespec
from watcher.sim.pbs.timefmt import hms, parse_duration

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SIZE = re.compile(r"^(\d+)([kmgtp]?)([bw]?)$", re.IGNORECASE)
_TIME_RESOURCES = ("walltime", "cput", "soft_walltime")
_SUMMED = ("ncpus", "mem", "vmem", "mpiprocs", "ngpus")
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


class ResourceError(ValueError):
    """The -l value is malformed (`qsub: illegal -l value`)."""


@dataclass(frozen=True)
class Chunk:
    """`count` identical chunks, each needing `ncpus` cpus on one node."""

    count: int
    ncpus: int
    extra: dict[str, str] = field(default_factory=dict)


def parse_request(text: str) -> dict[str, str]:
    """`select=2:ncpus=1,walltime=60` -> {"select": "2:ncpus=1", "walltime": "00:01:00"}."""
    out: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name) or not value:
            raise ResourceError(item)
        out[name] = _normalise(name, value.strip())
    return out


def _normalise(name: str, value: str) -> str:
    if name in _TIME_RESOURCES:
        seconds = parse_duration(value)
        if seconds is None:
            raise ResourceError(value)
        return hms(seconds)
    if name == "select":
        parse_select(value)
    # `nodes` is checked by the server, not qsub (resc_attr.c set_node_ct): see qsub.py
    elif name in ("ncpus", "mpiprocs", "ngpus") and not value.isdigit():
        raise ResourceError(value)
    return value


def parse_select(select: str) -> list[Chunk]:
    """`2:ncpus=2:mem=4gb+1:ncpus=8` -> chunks; the count defaults to 1."""
    chunks = []
    for spec in select.split("+"):
        parts = spec.split(":")
        count = 1
        if parts and parts[0].isdigit():
            count = int(parts.pop(0))
        extra: dict[str, str] = {}
        for part in parts:
            key, sep, value = part.partition("=")
            if not sep or not _NAME.match(key) or not value:
                raise ResourceError(spec)
            extra[key] = value
        ncpus = extra.pop("ncpus", "1")
        if not ncpus.isdigit() or count < 1:
            raise ResourceError(spec)
        chunks.append(Chunk(count, int(ncpus), extra))
    return chunks


def resource_list(requested: dict[str, str], vnode_names: Iterable[str] = ()
                  ) -> tuple[dict[str, str], list[Chunk]]:
    """The job's Resource_List (sorted like qstat prints it) and its chunks. A `nodes` spec
    wins over `select` and sets `place`, as set_select_and_place() does."""
    resources = dict(requested)
    if "nodes" in resources:
        resources["select"] = nodespec.to_select(resources["nodes"], vnode_names)
        resources["place"] = nodespec.place_for(resources["nodes"])
    elif "select" in resources:
        resources.setdefault("place", "free")
    else:
        chunk = f"1:ncpus={resources.get('ncpus', '1')}"
        if "mem" in resources:
            chunk += f":mem={resources['mem']}"
        resources["select"] = chunk
        resources.setdefault("place", "pack")
    chunks = parse_select(resources["select"])
    resources["ncpus"] = str(sum(c.count * c.ncpus for c in chunks))
    resources["nodect"] = str(sum(c.count for c in chunks))
    for name in _SUMMED[1:]:
        total = _sum_chunk_resource(chunks, name)
        if total is not None:
            resources[name] = total
    return dict(sorted(resources.items())), chunks


def size_kb(value: str) -> int | None:
    """`4gb` -> 4194304 (kb); a bare number is bytes, as PBS reads sizes. None if malformed."""
    match = _SIZE.match(value.strip())
    if not match:
        return None
    number, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
    word = 8 if match.group(3).lower() == "w" else 1
    return (number * word << (10 * unit)) >> 10


def size_text(kb: int) -> str:
    """A size as the scheduler prints it (misc.cpp res_to_str_re): the largest whole unit."""
    for unit, shift in (("tb", 30), ("gb", 20), ("mb", 10)):
        if kb and kb % (1 << shift) == 0:
            return f"{kb >> shift}{unit}"
    return f"{kb}kb"


def _sum_chunk_resource(chunks: list[Chunk], name: str) -> str | None:
    values = [(c.count, c.extra[name]) for c in chunks if name in c.extra]
    if not values:
        return None
    if all(v.isdigit() for _, v in values):
        return str(sum(n * int(v) for n, v in values))
    sizes = [(n, _SIZE.match(v)) for n, v in values]
    if not all(m for _, m in sizes):
        return values[0][1]
    units = {m.group(2).lower() + (m.group(3).lower() or "b") for _, m in sizes}
    if len(units) == 1:
        return f"{sum(n * int(m.group(1)) for n, m in sizes)}{units.pop()}"
    kb = sum(n * (int(m.group(1)) << (10 * _UNITS[m.group(2).lower()])) >> 10 for n, m in sizes)
    return f"{kb}kb"


def exec_strings(placement: Sequence[tuple[Any, ...]]) -> tuple[str, str]:
    """exec_host (`node01/0*2+node02/0`) and exec_vnode (`(node01:ncpus=2)+(node02:ncpus=1)`).

    `placement` holds (vnode, first cpu index, ncpus, other chunk resources[, host]) per
    placed chunk; exec_host names the host, exec_vnode the vnode.
    """
    hosts, vnodes = [], []
    for node, index, ncpus, extra, *rest in placement:
        host = rest[0] if rest else node
        hosts.append(f"{host}/{index}" + (f"*{ncpus}" if ncpus > 1 else ""))
        details = "".join(f":{k}={v}" for k, v in extra.items() if k in ("mem", "ngpus"))
        vnodes.append(f"({node}:ncpus={ncpus}{details})")
    return "+".join(hosts), "+".join(vnodes)
