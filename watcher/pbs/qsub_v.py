"""How real qsub turns `-v LIST` into the job's Variable_List, and values encoded to survive it.

Read from OpenPBS `src/cmds/qsub.c` and `src/lib/Libattr/attr_fn_arst.c`. Three passes:

1. `expand_varlist()`: `comma_token()` splits LIST on commas outside quotes (a quote character
   that is not the open one *switches* the quote; a backslash skips the next character), and
   `copy_env_value()` copies each value: quotes open and close (and vanish), a quote of the
   other kind inside is escaped, a comma inside quotes becomes `\\,`, a backslash is doubled
   unless a comma follows it, a bare comma after a backslash is kept, `;\\n` loses its newline
   in a `() {` function. A bare NAME takes qsub's own environment, copied with quoting on.
2. `set_job_env()` walks that result and runs `copy_env_value()` over each value *again*
   (PBS pull request #712 says so), so backslashes double twice and the quotes the first pass
   escaped open quotes in the second.
3. The server's `parse_comma_string_bs()` splits the list on unescaped commas, unescapes
   `\\" \\' \\, \\\\` (any other `\\x` stays), skips leading and strips trailing whitespace.

What follows for a value that must arrive intact (`encode_value`): a comma is written `\\,`; a
pair of backslashes is written as one (it doubles), except at the end of the value, where the
comma after it would be taken as escaped and swallow the next variable (the `TRAIL=x\\` finding),
and before a comma: there each pair is written `'""'""`, which the two passes turn into `\\\\`.
A quote, a lone backslash, trailing whitespace and a NUL cannot arrive intact by any spelling:
`QsubVError` (a search of every spelling up to 8 characters found none).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

ESC = "\\"


class QsubVError(ValueError):
    """A -v list qsub refuses ("cannot send environment with the job"), or a value that no
    spelling carries through qsub intact."""


def received(optarg: str, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (name, value) pairs a job gets from `qsub -v optarg`, PBS_O_* left out."""
    # set_job_env() appends ",NAME=value" to the PBS_O_* list it starts from; here none.
    listed = _set_job_env(_expand_varlist(optarg, environ)).removeprefix(",")
    entries = parse_comma_string_bs(listed)
    return [(name, value) for name, _, value in (e.partition("=") for e in entries)]


def comma_tokens(text: str) -> Iterator[str]:
    """qsub.c `comma_token()`: tokens as written (quotes and backslashes kept)."""
    start, quote, i = 0, "", 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            quote = "" if char == quote else char
        elif char == "," and not quote:
            yield text[start:i]
            start = i + 1
        elif char == ESC and i + 1 < len(text):
            i += 1
        i += 1
    if start < len(text):
        yield text[start:]


def _copy_env_value(dest: list[str], value: str, quoting: bool) -> int:
    """qsub.c `copy_env_value()`: appends to `dest`; returns how much of `value` it used
    (through the comma that ended it)."""
    quote, i, go = "", 0, True
    function = value.startswith("() {")
    while go and i < len(value):
        char = value[i]
        if char in "'\"":
            if quote:
                if char == quote:
                    quote = ""
                else:
                    dest += [ESC, char]
            elif quoting:
                dest += [ESC, char]
            else:
                quote = char
        elif char == ESC:
            dest.append(char)
            if value[i + 1: i + 2] != ",":
                dest.append(char)
        elif char == ",":
            if quote or quoting:
                dest += [ESC, char]
            elif dest and dest[-1] == ESC:
                dest.append(char)
            else:
                go = False
        else:
            dest.append(char)
            if char == ";" and function and value[i + 1: i + 2] == "\n":
                i += 1
        i += 1
    if quote:
        raise QsubVError("qsub: cannot send environment with the job (unterminated quote)")
    return i


def _expand_varlist(optarg: str, environ: Mapping[str, str]) -> str:
    out: list[str] = []
    for token in comma_tokens(optarg):
        name, sep, value = token.partition("=")
        if not sep and not name.startswith("PBS_O_"):
            if name not in environ:
                raise QsubVError("qsub: cannot send environment with the job "
                                 f"({name!r} is not set)")
            out += [*("," if out else ""), *name, "="]
            _copy_env_value(out, environ[name], True)
        elif sep:
            out += [*("," if out else ""), *name, "="]
            _copy_env_value(out, value, False)
    return "".join(out)


def _set_job_env(expanded: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(expanded):
        if expanded[i] in ",=":
            raise QsubVError("qsub: cannot send environment with the job (empty name)")
        end = i
        while end < len(expanded) and expanded[end] not in ",=":
            end += 1
        name = expanded[i:end]
        if end == len(expanded) or expanded[end] == ",":  # expand_varlist leaves none bare
            raise QsubVError(f"qsub: cannot send environment with the job ({name!r})")
        mark = len(out)
        out += [",", *name, "="]
        i = end + 1 + _copy_env_value(out, expanded[end + 1:], False)
        if name.startswith("PBS_O_"):
            del out[mark:]
    return "".join(out)


def parse_comma_string_bs(text: str) -> list[str]:
    """attr_fn_arst.c `parse_comma_string_bs()`: the server's split of the list."""
    entries, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\n\v\f\r":
            i += 1
        if i >= len(text):
            return entries
        entry: list[str] = []
        while i < len(text) and text[i] != ",":
            if text[i] == ESC:
                i += 1
                if i == len(text):
                    break
                entry += [text[i]] if text[i] in "\"',\\" else [ESC, text[i]]
            else:
                entry.append(text[i])
            i += 1
        i += 1
        entries.append("".join(entry).rstrip(" \t\n\v\f\r"))


def encode_value(value: str) -> str:
    """`value` spelt so that `qsub -v NAME=<it>` gives the job exactly `value`, whatever
    follows it in the list; `QsubVError` when no spelling can (see the module docstring)."""
    if "\0" in value or "'" in value or '"' in value:
        raise QsubVError("holds a quote or a NUL, which qsub -v cannot pass")
    if value != value.rstrip(" \t\n\v\f\r"):
        raise QsubVError("ends in whitespace, which the PBS server strips")
    if value.startswith("() {") and ";\n" in value:
        raise QsubVError("is a shell function whose ';' newlines qsub drops")
    out, i = [], 0
    while i < len(value):
        if value[i] == ",":
            out.append("\\,")
            i += 1
        elif value[i] == ESC:
            run = len(value[i:]) - len(value[i:].lstrip(ESC))
            if run % 2:
                raise QsubVError("holds a lone backslash, which qsub -v doubles (pairs pass)")
            # One backslash per pair, unless the pair ends the value or a comma follows: then
            # the first pass's output would end `\\,` and the second take that comma as escaped.
            last = value[i + run: i + run + 1] in ("", ",")
            out.append(("'\"\"'\"\"" if last else ESC) * (run // 2))
            i += run
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
