"""The simulated cluster's vnodes: names, hosts, cpus and other resources, as `pbsnodes` shows.

By default the cluster is `node01`..`nodeNN`, each its own host with `ncpus_per_node` cpus. A
cluster that looks like a real one is given as vnode specs, one per vnode, in the order the
scheduler visits them:

    pbs-cc1:ncpus=8:mem=64gb            a vnode named pbs-cc1 on host pbs-cc1
    cn001[0]:host=cn001:ncpus=4         one of several vnodes of host cn001
    gpu01:ncpus=16:ngpus=2:bigmem=True  with a custom boolean resource

`resources_available.host` defaults to the vnode name, as on a single-vnode host; `ncpus`
defaults to 1. Anything else is kept as the vnode's `resources_available.<name>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\]]*$")
_RESOURCE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class VnodeSpecError(ValueError):
    """A vnode spec the simulator cannot use; the message names the spec and the problem."""


@dataclass(frozen=True)
class VnodeSpec:
    """One vnode as configured (what `resources_available` holds)."""

    name: str
    host: str
    ncpus: int
    resources: dict[str, str] = field(default_factory=dict)

    def as_setting(self) -> dict[str, Any]:
        """The JSON form kept in the simulator's settings."""
        return {"name": self.name, "host": self.host, "ncpus": self.ncpus,
                "resources": dict(self.resources)}


def parse_vnode(text: str) -> VnodeSpec:
    """`name[:host=H][:ncpus=N][:res=value...]` -> a VnodeSpec (VnodeSpecError if malformed)."""
    name, *parts = text.strip().split(":")
    if not _NAME.match(name):
        raise VnodeSpecError(f"vnode spec {text!r}: {name!r} is not a vnode name")
    host, ncpus, resources = name, 1, {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not _RESOURCE.match(key) or not value:
            raise VnodeSpecError(f"vnode spec {text!r}: {part!r} is not resource=value")
        if key == "host":
            host = value
        elif key == "ncpus":
            if not value.isdigit():
                raise VnodeSpecError(f"vnode spec {text!r}: ncpus must be a whole number")
            ncpus = int(value)
        else:
            resources[key] = value
    return VnodeSpec(name, host, ncpus, resources)


def from_settings(settings: dict[str, Any]) -> list[VnodeSpec]:
    """The vnodes of a simulator: the configured list, else node01..nodeNN."""
    configured = settings.get("vnodes") or []
    if configured:
        return [VnodeSpec(v["name"], v.get("host", v["name"]), int(v.get("ncpus", 1)),
                          dict(v.get("resources", {}))) for v in configured]
    count, ncpus = int(settings["nodes"]), int(settings["ncpus_per_node"])
    return [VnodeSpec(f"node{i:02d}", f"node{i:02d}", ncpus) for i in range(1, count + 1)]


def check_unique(specs: list[VnodeSpec]) -> None:
    """Two vnodes with one name would make exec_vnode ambiguous, as PBS refuses too."""
    seen: set[str] = set()
    for spec in specs:
        if spec.name.lower() in seen:
            raise VnodeSpecError(f"vnode {spec.name!r} is given twice")
        seen.add(spec.name.lower())
