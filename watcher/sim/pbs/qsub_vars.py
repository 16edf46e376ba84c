"""qsub -v: a comma-separated variable list with quotes and backslashes, as qsub.c reads it.

`-v a=1,b='x,y',HOME` gives a=1, b=x,y and HOME from qsub's own environment; names starting
with PBS_O_ are dropped (qsub sets those itself).
"""

from __future__ import annotations

from watcher.sim.pbs.qsub_opts import QsubError


def comma_tokens(text: str) -> list[str]:
    """Split a -v list on commas outside quotes; a backslash protects the next character."""
    tokens, current, quote, i = [], [], "", 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            quote = "" if quote == char else (quote or char)
            current.append(char)
        elif char == "\\" and i + 1 < len(text):
            current.append(text[i: i + 2])
            i += 1
        elif char == "," and not quote:
            tokens.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    tokens.append("".join(current))
    return [t for t in tokens if t]


def variables(text: str, environ: dict[str, str]) -> list[tuple[str, str]]:
    """-v `a=1,b='x,y',HOME` -> pairs; a bare name takes its value from qsub's environment."""
    pairs = []
    for token in comma_tokens(text):
        name, sep, value = token.partition("=")
        if name.startswith("PBS_O_"):
            continue
        if not sep:
            if name not in environ:
                raise QsubError("qsub: cannot send environment with the job\n", 1)
            pairs.append((name, environ[name]))
        else:
            pairs.append((name, _unquote(value)))
    return pairs


def _unquote(value: str) -> str:
    out, quote, i = [], "", 0
    while i < len(value):
        char = value[i]
        if char in "'\"" and (not quote or quote == char):
            quote = "" if quote else char
        elif char == "\\" and i + 1 < len(value) and value[i + 1] == ",":
            out.append(",")
            i += 1
        else:
            out.append(char)
        i += 1
    if quote:
        raise QsubError("qsub: cannot send environment with the job\n", 1)
    return "".join(out)
