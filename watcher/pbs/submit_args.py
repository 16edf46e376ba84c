"""qsub command lines from a job's `Submit_arguments`: read them, change them, rebuild them.

What PBS records. qsub stores its own argv (argv[0] left out) as XML (`encode_xml_arg_list` in
OpenPBS `src/lib/Libifl/xml_encode_decode.c`), and qstat prints it back with the arguments
joined by single spaces, unquoted (`decode_xml_arg_list_str`). So `qsub -N run -v "M=a,b" j.sh`
shows as `-N run -v M=a,b j.sh`: the quotes the user's shell removed are gone, and the quotes
it kept are there. Splitting on single spaces is therefore the exact inverse; `shlex` would be
wrong: in `-v a=1,b='x,y'` the quotes are part of the argument (they tell qsub the comma
belongs to the value) and must reach qsub again.

The one thing lost is whitespace inside an argument. qsub refuses options after its script
operand, so every token after the first operand is part of the operand; more than one such
token (or an empty token, from two spaces in a row) means some argument held whitespace, and
whether it was the script path or an option's value cannot be known: `SubmitArgsError` rather
than a guess. A value with whitespace in the last option of a stdin job cannot be detected here;
qsub then fails on a script file that does not exist, which is a clear, permanent error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from watcher.pbs import qsub_v
from watcher.pbs.qsub_v import QsubVError

# qsub's getopt string (OpenPBS qsub.c GETOPT_ARGS); a letter followed by ':' takes a value.
QSUB_OPTSTRING = "a:A:c:C:e:fGhIj:J:k:l:m:M:N:o:p:q:r:R:S:u:v:VW:XzP:"
_TAKES_VALUE = {c: QSUB_OPTSTRING[i + 1: i + 2] == ":"
                for i, c in enumerate(QSUB_OPTSTRING) if c != ":"}

Option = tuple[str, str | None]
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SubmitArgsError(ValueError):
    """`Submit_arguments` that cannot be turned back into a qsub argument list."""


@dataclass(frozen=True)
class QsubArgs:
    """A qsub command line: options in order, then the script path, or `--` and a command.

    `script` None and no `command` means the script was read from standard input.
    """

    options: tuple[Option, ...] = ()
    script: str | None = None
    command: tuple[str, ...] = ()

    def values(self, letter: str) -> list[str]:
        """Each value given with `-letter`, in order ("" for a flag with none)."""
        return [value or "" for opt, value in self.options if opt == letter]

    def has(self, letter: str) -> bool:
        """Whether `-letter` is given at all."""
        return any(opt == letter for opt, _ in self.options)

    def without(self, *letters: str) -> QsubArgs:
        """A copy without every `-letter` of `letters`."""
        return replace(self, options=tuple(o for o in self.options if o[0] not in letters))

    def plus(self, letter: str, value: str | None = None) -> QsubArgs:
        """A copy with `-letter [value]` added last (so it wins over an earlier one)."""
        return replace(self, options=(*self.options, (letter, value)))

    def argv(self) -> list[str]:
        """The argument list for qsub (without the program name), one value per element."""
        out: list[str] = []
        for letter, value in self.options:
            out += [f"-{letter}"] if value is None else [f"-{letter}", value]
        if self.command:
            return [*out, "--", *self.command]
        return out if self.script is None else [*out, self.script]


def parse_submit_arguments(text: str) -> QsubArgs:
    """Read qstat's `Submit_arguments` text; raises SubmitArgsError when it is not a qsub
    command line or cannot be split unambiguously."""
    if not text.strip():
        return QsubArgs()
    tokens = text.split(" ")
    if "" in tokens:
        raise _whitespace(text)
    options: list[Option] = []
    i = 0
    while i < len(tokens):
        token, i = tokens[i], i + 1
        if token == "--":
            if i == len(tokens):
                raise SubmitArgsError(f"nothing follows '--' in {text!r}")
            return QsubArgs(tuple(options), None, tuple(tokens[i:]))
        if token == "-" or not token.startswith("-"):
            if i < len(tokens):
                raise _whitespace(text)
            return QsubArgs(tuple(options), None if token == "-" else token)
        i = _read_option(token, tokens, i, options)
    return QsubArgs(tuple(options))


def _read_option(token: str, tokens: list[str], i: int, options: list[Option]) -> int:
    """getopt on one token: `-hz` is two flags, `-lwalltime=1` and `-l walltime=1` one option."""
    for pos in range(1, len(token)):
        letter = token[pos]
        if letter not in _TAKES_VALUE:
            raise SubmitArgsError(f"unknown qsub option -{letter}")
        if not _TAKES_VALUE[letter]:
            options.append((letter, None))
        elif pos + 1 < len(token):
            options.append((letter, token[pos + 1:]))
            return i
        elif i < len(tokens):
            options.append((letter, tokens[i]))
            return i + 1
        else:
            raise SubmitArgsError(f"qsub option -{letter} has no value")
    return i


def _whitespace(text: str) -> SubmitArgsError:
    return SubmitArgsError(
        f"an argument in {text!r} contained whitespace, which qstat does not quote: the "
        "command line cannot be rebuilt safely")


def comma_tokens(text: str) -> list[str]:
    """Split a -v or -l list on commas outside quotes, as qsub's comma_token() does (a
    backslash protects the next character); tokens keep their quotes."""
    tokens: list[str] = []
    current: list[str] = []
    quote = ""
    chars = iter(text)
    for char in chars:
        if char == "," and not quote:
            tokens.append("".join(current))
            current = []
            continue
        current.append(char)
        if char in "'\"":
            quote = "" if quote == char else (quote or char)
        elif char == "\\":
            current.append(next(chars, ""))
    tokens.append("".join(current))
    return [t for t in tokens if t]


def replace_resource(args: QsubArgs, name: str, value: str) -> QsubArgs:
    """Drop `name` from every `-l` list (dropping a list left empty), then add `-l name=value`."""
    kept: list[Option] = []
    for letter, option_value in args.options:
        if letter == "l":
            rest = [t for t in comma_tokens(option_value or "")
                    if t.partition("=")[0].strip().lower() != name.lower()]
            if not rest:
                continue
            option_value = ",".join(rest)
        kept.append((letter, option_value))
    return replace(args, options=tuple(kept)).plus("l", f"{name}={value}")


def drop_w_attributes(args: QsubArgs, names: Iterable[str]) -> QsubArgs:
    """Remove attributes such as `depend` from every `-W attr=value[,attr=value]` option."""
    drop = set(names)
    kept: list[Option] = []
    for letter, value in args.options:
        pairs = _w_pairs(value or "") if letter == "W" else None
        if pairs is not None:
            pairs = [p for p in pairs if p[0] not in drop]
            if not pairs:
                continue
            value = ",".join(f"{key}={val}" for key, val in pairs)
        kept.append((letter, value))
    return replace(args, options=tuple(kept))


def _w_pairs(text: str) -> list[tuple[str, str]] | None:
    """`depend=afterok:1,afterany:2,umask=022`: a comma ends a value only before `name=`
    (qsub's parse_equal_string), because a depend list has commas of its own. None when the
    text is not such a list (qsub would have refused it; it is passed on untouched)."""
    pairs: list[tuple[str, str]] = []
    for token in text.split(","):
        key, sep, value = token.partition("=")
        if sep and key and key.replace("_", "").isalnum():
            pairs.append((key, value))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]},{token}")
        else:
            return None
    return pairs


def set_variables(
    args: QsubArgs,
    new: Mapping[str, str],
    *,
    tags: Mapping[str, str] | None = None,
    known: Mapping[str, str] | None = None,
    drop: Callable[[str], bool] = lambda name: False,
) -> QsubArgs:
    """Replace the `-v` list (qsub honours only the last one) with `tags`, then its entries,
    then `new`.

    Entries named in `new` or `tags`, or for which `drop(name)` holds, are removed first. An
    entry's value is what qsub made of what the user wrote (`qsub_v.received`), not what
    qstat shows of it: qstat's JSON prints backslashes unescaped, so `\\` reads back as one.
    A bare name (`-v HOME`, "send qsub's own value") takes the value the old job had
    (`known`, its Variable_List), or stays bare when there is none. `tags` come first: whatever the
    user's values hold, nothing they do can reach back into the tags a crash recovery looks
    for. Every value is spelt for real qsub (`watcher.pbs.qsub_v`); one that cannot arrive
    intact is a `SubmitArgsError`, never a value cut short.
    """
    known, tags = known or {}, tags or {}
    entries = [(name, value) for name, value in tags.items()]
    old = list(qsub_v.comma_tokens(args.values("v")[-1])) if args.has("v") else []
    for token in old:
        name, sep, _ = token.partition("=")
        if not name or name in new or name in tags or drop(name):
            continue
        if sep:
            entries.append((name, _written_value(token)))
        else:
            entries.append((name, known.get(name)))
    entries += list(new.items())
    for name, _ in entries:
        if not _VAR_NAME.fullmatch(name):
            raise SubmitArgsError(f"-v entry {name!r} is not a variable name qsub can pass")
    listed = ",".join(name if value is None else f"{name}={quote_value(value, name)}"
                      for name, value in entries)
    stripped = args.without("v")
    return stripped.plus("v", listed) if listed else stripped


def _written_value(token: str) -> str:
    try:
        return qsub_v.received(token, {})[0][1]
    except (QsubVError, IndexError):
        raise SubmitArgsError(f"qsub could not have read -v entry {token!r}") from None


def quote_value(value: str, name: str = "") -> str:
    """A -v value spelt so that the job gets exactly `value` (see `watcher.pbs.qsub_v`)."""
    try:
        return qsub_v.encode_value(value)
    except QsubVError as exc:
        what = f"variable {name!r}" if name else "a -v value"
        raise SubmitArgsError(f"{what} {exc}, so the job cannot be submitted with it "
                              "intact") from None
