"""The `depend` attribute: parsing `-W depend=...` and printing it the way qstat shows it.

A child lists what it waits for (`afterok:12.srv@srv:13.srv@srv`), its parent lists who waits
on it (`beforeok:14.srv@srv`). Several types are joined with commas. PBS removes a child's entry
once satisfied; the parent keeps its `before*` entries.
"""

from __future__ import annotations

import re

AFTER_TYPES = ("after", "afterok", "afternotok", "afterany")
BEFORE_OF = {"after": "before", "afterok": "beforeok", "afternotok": "beforenotok",
             "afterany": "beforeany"}
ALL_TYPES = (*AFTER_TYPES, "before", "beforeok", "beforenotok", "beforeany", "on", "runone")

_JOBID = re.compile(r"^\d+(\[\d*\])?(\.[A-Za-z0-9][A-Za-z0-9.-]*)?(@[A-Za-z0-9][A-Za-z0-9.-]*)?$")

Depend = list[tuple[str, list[str]]]


class DependError(ValueError):
    """The value is malformed: qsub prints `qsub: illegal -W value`."""


class UnsupportedDepend(ValueError):
    """A valid PBS dependency type the simulator does not implement (before*, on, runone)."""


def parse(value: str) -> Depend:
    """`afterok:12:13.srv,afterany:14` -> [("afterok", ["12", "13.srv"]), ("afterany", ["14"])].

    Job ids keep what the user typed, minus any `@server` suffix; the caller qualifies them.
    """
    out: Depend = []
    for item in value.split(","):
        dtype, _, rest = item.partition(":")
        ids = rest.split(":") if rest else []
        if dtype not in ALL_TYPES or not ids:
            raise DependError(item)
        if dtype == "on":
            if len(ids) != 1 or not ids[0].isdigit():
                raise DependError(item)
        elif not all(_JOBID.match(i) for i in ids):
            raise DependError(item)
        if dtype not in AFTER_TYPES:
            raise UnsupportedDepend(dtype)
        out.append((dtype, [i.split("@")[0] for i in ids]))
    return out


def encode(depend: Depend, server: str) -> str:
    """The attribute string: `afterok:12.srv@srv:13.srv@srv,beforeany:15.srv@srv`."""
    return ",".join(f"{dtype}:" + ":".join(f"{jid}@{server}" for jid in ids)
                    for dtype, ids in depend if ids)


def add(depend: Depend, dtype: str, jobid: str) -> None:
    """Add `jobid` under `dtype`, keeping the first-seen order of types."""
    for existing, ids in depend:
        if existing == dtype:
            if jobid not in ids:
                ids.append(jobid)
            return
    depend.append((dtype, [jobid]))


def remove(depend: Depend, dtype: str, jobid: str) -> Depend:
    """Drop one entry; types left with no job disappear."""
    out = [(t, [i for i in ids if not (t == dtype and i == jobid)]) for t, ids in depend]
    return [(t, ids) for t, ids in out if ids]


def waiting(depend: Depend) -> bool:
    """Does the job still wait on any parent (so it must keep its system hold)?"""
    return any(t in AFTER_TYPES and ids for t, ids in depend)
