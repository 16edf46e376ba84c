"""The old `-l nodes=` spec, converted to `select` and `place` as the PBS server does it.

Follows OpenPBS src/server/node_manager.c cvt_nodespec_to_select() and svr_jobfunc.c
set_select_and_place():

    nodes=2                 select=2:ncpus=1                      place=scatter
    nodes=2:ppn=4           select=2:ncpus=4:mpiprocs=4           place=scatter
    nodes=pbs-cc1           select=1:ncpus=1:host=pbs-cc1         (a vnode name becomes host=)
    nodes=1:bigmem          select=1:ncpus=1:bigmem=True          (anything else a boolean)
    nodes=node01+node02     select=1:ncpus=1:host=node01+1:ncpus=1:host=node02
    nodes=2:ppn=2#excl      select=2:ncpus=2:mpiprocs=2           place=scatter:excl

Each sub-spec is `[N][:prop...]` where a prop is a name or `ppn=`/`cpp=`/`ncpus=`; `#prop`
after the spec applies to every sub-spec (`#excl` and `#shared` set the placement instead).
Properties come out in reverse order, because the server builds their list by prepending.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = re.compile(r"^(\d+)(?![A-Za-z])")
_PROPERTY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_.=]*")
_VP_NUMBER = re.compile(r"^/\d*")


class NodeSpecError(ValueError):
    """The spec is not one PBS accepts (PBSE_BADNODESPEC)."""


def valid(spec: str) -> bool:
    """validate_nodespec(): the server refuses the job with PBSE_BADNODESPEC otherwise."""
    try:
        to_select(spec)
    except NodeSpecError:
        return False
    return True


def place_for(spec: str) -> str:
    """The `place` the server sets for a nodes spec, whatever place the job asked for."""
    if "#excl" in spec:
        return "scatter:excl"
    if "#shared" in spec:
        return "scatter:share"
    return "scatter"


def to_select(spec: str, vnode_names: Iterable[str] = ()) -> str:
    """The `select` for `spec`; props equal to a vnode name (any case) become `host=`."""
    names = {n.lower() for n in vnode_names}
    body, *globals_ = spec.split("#")
    extra = [g for g in reversed(globals_) if g.lower() not in ("excl", "shared")]
    if extra:  # mod_spec(): each global is appended to every sub-spec
        body = "+".join(":".join([sub, *extra]) for sub in body.split("+"))
    chunks = [_chunk(sub, names, spec) for sub in body.split("+")]
    return "+".join(chunks)


def _chunk(sub: str, names: set[str], spec: str) -> str:
    count, props, ppn, cpp = 1, [], 1, 1
    number = _NUMBER.match(sub)  # number(): digits not followed by a letter
    if number:
        count, rest = int(number.group(1)), sub[number.end():]
        if count == 0 or (rest and not rest.startswith(":")):
            raise NodeSpecError(spec)
        if rest:
            props, ppn, cpp = _properties(rest[1:], spec)
    else:
        props, ppn, cpp = _properties(sub, spec)
    out = [str(count), f"ncpus={ppn * cpp}"]
    out += [f"host={p}" if p.lower() in names else f"{p}=True" for p in reversed(props)]
    if ppn != 1:
        out.append(f"mpiprocs={ppn}")
    return ":".join(out)


def _properties(text: str, spec: str) -> tuple[list[str], int, int]:
    """proplist(): names and the special ppn=/cpp=/ncpus= properties, `:` separated."""
    props: list[str] = []
    ppn = cpp = 1
    while True:
        found = _PROPERTY.match(text)
        if not found:
            raise NodeSpecError(spec)
        name = found.group(0)
        text = text[found.end():]
        skipped = _VP_NUMBER.match(text)  # "/vp_number" after a name is skipped
        if skipped:
            text = text[skipped.end():]
        key, sep, value = name.partition("=")
        if sep:
            if not value.isdigit() or key.lower() not in ("ppn", "cpp", "ncpus"):
                raise NodeSpecError(spec)
            if key.lower() == "ppn":
                if int(value) == 0:
                    raise NodeSpecError(spec)
                ppn = int(value)
            else:
                cpp = int(value)
        else:
            props.append(name)
        if not text.startswith(":"):
            break
        text = text[1:]
    if text:
        raise NodeSpecError(spec)
    return props, ppn, cpp
