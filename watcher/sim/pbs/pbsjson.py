"""qstat's JSON writer, rebuilt from OpenPBS (src/lib/Libutil/pbs_json.c, 23.06 behaviour).

qstat hands every attribute value to its JSON layer as a *string* and lets it guess the type:
anything C `strtod()` consumes whole becomes a bare number, except values with a leading `0`
that are >= 1 (so `005` stays a string, but `0000000` and `00` are printed bare: invalid JSON,
as seen on real systems). Strings are escaped only partly (JSON_ESCAPE mode), which can also
produce invalid JSON. Both quirks are reproduced on purpose: parsers must survive them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

_WS = "[ \t\n\v\f\r]*"
_DEC = r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
_HEX = r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
_SPECIAL = r"[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
_NUMBER = re.compile(f"^{_WS}(?:(?P<hex>{_HEX})|(?P<dec>{_DEC})|(?P<special>{_SPECIAL})){_WS}$")
_PLAIN_INT = re.compile(r"^-?[1-9]\d{0,17}$|^0$")

Tree = list[tuple[str, Any]]


def is_numeric(value: str) -> bool:
    """Would qstat print this attribute value as a bare JSON number?"""
    if _PLAIN_INT.match(value):  # the common case, without the regex below
        return True
    match = _NUMBER.match(value)
    if match is None or not value.strip():
        return False
    if value[0] != "0":
        return True
    if match.group("hex"):
        number = float.fromhex(match.group("hex"))
    elif match.group("dec"):
        number = float(match.group("dec"))
    else:
        number = float(match.group("special").split("(")[0])
    return number < 1


def escape(value: str) -> str:
    """strdup_escape(JSON_ESCAPE): control characters escaped, quotes and backslashes partly.

    A `"` is escaped unless a backslash precedes it (and never when it is the first character),
    `\\'` and `\\,` lose their backslash, any other backslash is copied with the character after
    it, verbatim.
    """
    if not _NEEDS_ESCAPE.search(value):
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in _CONTROL:
            out.append(_CONTROL[c])
        elif c == '"':
            if i > 0 and value[i - 1] != "\\":
                out.append("\\")
            out.append(c)
        elif c == "\\":
            nxt = value[i + 1] if i + 1 < n else ""
            if nxt in ("'", ","):
                out.append(nxt)
            else:
                out.append(c + nxt)
            i += 1
        else:
            out.append(c)
        i += 1
    return "".join(out)


_CONTROL = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile('["\\\\\b\f\n\r\t]')


@lru_cache(maxsize=65536)  # qstat prints the same values (paths, dates, "True") over and over
def scalar(value: str) -> str:
    """One attribute value as qstat prints it: a bare number or a partly escaped string."""
    if is_numeric(value):
        return value
    return '"' + escape(value) + '"'


def full_escape(value: str) -> str:
    """JSON_FULLESCAPE, used for the prologue strings (`pbs_version`, `pbs_server`)."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    for raw, escaped in _CONTROL.items():
        out = out.replace(raw, escaped)
    return out


def members(tree: Iterable[Sequence[Any]] | dict[str, Any], indent: int) -> str:
    """`"key":value` members of one object, comma-separated, PBS spacing.

    Values: a string (type guessed), an int (printed bare), or a nested object given as a dict
    or as a list of (key, value) pairs (Variable_List keeps its order and duplicates).
    """
    pad = " " * indent
    parts = []
    for key, value in tree.items() if isinstance(tree, dict) else tree:
        kind = value.__class__
        if kind is str:
            parts.append(f'{pad}"{key}":{scalar(value)}')
        elif kind is int:
            parts.append(f'{pad}"{key}":{value}')
        else:
            parts.append(f'{pad}"{key}":{{\n{members(value, indent + 4)}\n{pad}}}')
    return ",\n".join(parts)


def document(timestamp: int, version: str, server: str, jobs: list[tuple[str, Tree]]) -> str:
    """The whole `qstat -f -F json` answer; no `Jobs` key at all when `jobs` is empty."""
    head = (f'{{\n    "timestamp":{timestamp},\n    "pbs_version":"{full_escape(version)}",\n'
            f'    "pbs_server":"{full_escape(server)}"')
    if not jobs:
        return head + "\n}\n"
    return f'{head},\n    "Jobs":{{\n{members(jobs, 8)}\n    }}\n}}\n'
