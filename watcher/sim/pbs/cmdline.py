"""glibc getopt(3), as the PBS commands use it: same permutation, same error messages.

`qstat 12 -x` works because glibc moves operands after options; an unknown option prints
`<argv0>: invalid option -- 'k'` and a missing argument
`<argv0>: option requires an argument -- 'N'`, then the command prints its usage.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class Parsed:
    """Options in command-line order, operands, and whether getopt had to permute."""

    options: list[tuple[str, str]] = field(default_factory=list)
    operands: list[str] = field(default_factory=list)
    errors: int = 0
    permuted: bool = False


def getopt(argv: list[str], optstring: str) -> Parsed:
    """Parse argv[1:] against a getopt optstring like `"fxF:"`; messages go to stderr."""
    takes_arg = {c: optstring[i + 1: i + 2] == ":" for i, c in enumerate(optstring) if c != ":"}
    parsed = Parsed()
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            parsed.operands.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            parsed.operands.append(arg)
            continue
        if parsed.operands:
            parsed.permuted = True
        pos = 1
        while pos < len(arg):
            char = arg[pos]
            pos += 1
            if char not in takes_arg:
                print(f"{argv[0]}: invalid option -- '{char}'", file=sys.stderr)
                parsed.errors += 1
                continue
            if not takes_arg[char]:
                parsed.options.append((char, ""))
                continue
            if pos < len(arg):
                parsed.options.append((char, arg[pos:]))
            elif i < len(args):
                parsed.options.append((char, args[i]))
                i += 1
            else:
                print(f"{argv[0]}: option requires an argument -- '{char}'", file=sys.stderr)
                parsed.errors += 1
            break
    return parsed
