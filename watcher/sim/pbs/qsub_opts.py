"""qsub's options: command line first, then `#PBS` directives in the script at lower priority.

Mirrors qsub.c process_opts(): a command-line option always beats the same option in a
directive, and within one source the last occurrence wins. Resources (-l) merge per resource.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from watcher.sim.pbs import depend
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.messages import unsupported
from watcher.sim.pbs.resources import ResourceError, parse_request

OPTSTRING = "a:A:c:C:e:fhIj:J:k:l:m:M:N:o:p:q:r:R:S:u:v:VW:XzP:"
_UNSUPPORTED = {"a": "-a (deferred start)", "I": "-I (interactive jobs)",
                "X": "-X (X11 forwarding)", "u": "-u (user list)",
                "R": "-R (remove output files)"}
_SINGLE = set("AcCejJkmMNopqrSvP")
_W_KEYS = ("depend", "umask", "block")


class QsubError(Exception):
    """qsub must stop: `message` goes to stderr, then the usage text when `usage` is set."""

    def __init__(self, message: str, code: int, usage: bool = False) -> None:
        super().__init__(message)
        self.message, self.code, self.usage = message, code, usage


@dataclass
class Request:
    """The merged options of one submission."""

    single: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    resources: dict[str, str] = field(default_factory=dict)
    depend: depend.Depend = field(default_factory=list)
    wattrs: dict[str, str] = field(default_factory=dict)
    executable: list[str] = field(default_factory=list)  # `-- program args`
    _primary_resources: set[str] = field(default_factory=set)

    def apply(self, options: list[tuple[str, str]], primary: bool) -> list[str]:
        """Fold options in; `primary` is the command line. Returns error messages."""
        errors: list[str] = []
        seen: set[str] = set()
        for letter, value in options:
            if letter in _UNSUPPORTED:
                raise QsubError(unsupported("qsub", _UNSUPPORTED[letter]), 2)
            if letter in "hVzf":
                self.flags.add(letter)
            elif letter == "l":
                self._resources(value, primary, errors)
            elif letter == "W":
                self._w(value, primary, seen, errors)
            elif letter in _SINGLE and (primary or letter not in self.single or letter in seen):
                problem = _check(letter, value)
                if problem:
                    errors.append(problem)
                    continue
                self.single[letter] = value
                seen.add(letter)
        return errors

    def _resources(self, value: str, primary: bool, errors: list[str]) -> None:
        try:
            requested = parse_request(value)
        except ResourceError:
            errors.append("qsub: illegal -l value\n")
            return
        for name, res in requested.items():
            if primary:
                self._primary_resources.add(name)
            if primary or name not in self._primary_resources:
                self.resources[name] = res

    def _w(self, value: str, primary: bool, seen: set[str], errors: list[str]) -> None:
        pairs = parse_equal_string(value.strip())
        if pairs is None:
            errors.append("qsub: illegal -W value\n")
            return
        for key, val in pairs:
            if key not in _W_KEYS:
                raise QsubError(unsupported("qsub", f"-W {key}"), 2)
            if not primary and key in self.wattrs and ("W" + key) not in seen:
                continue
            seen.add("W" + key)
            if key == "umask" and not (val.isdigit() and len(val) <= 4):
                errors.append("qsub: illegal -W value\n")
            elif key == "block" and val.lower() not in ("true", "false"):
                errors.append("qsub: illegal -W value\n")  # qsub.c: only true or false
            elif key == "depend":
                try:
                    self.depend = depend.parse(val)
                except depend.DependError:
                    errors.append("qsub: illegal -W value\n")
                    continue
                except depend.UnsupportedDepend as exc:
                    raise QsubError(unsupported("qsub", f"depend type {exc}"), 2) from exc
            self.wattrs[key] = val


def _check(letter: str, value: str) -> str | None:
    ok = {
        "c": value.strip() != "u",
        "r": value in ("y", "n"),
        "j": value in ("oe", "eo", "n"),
        "p": value.lstrip("-").isdigit() and -1024 <= int(value) <= 1023,
        "N": bool(value) and "/" not in value and not any(c.isspace() for c in value),
    }.get(letter, True)
    return None if ok else f"qsub: illegal -{letter} value\n"


def parse_equal_string(text: str) -> list[tuple[str, str]] | None:
    """`depend=afterok:1,afterany:2,umask=022` -> pairs; commas end a value only before `x=`."""
    if not text:
        return None
    pairs: list[tuple[str, str]] = []
    for token in text.split(","):
        key, sep, value = token.partition("=")
        if sep and key and key.replace("_", "").isalnum():
            pairs.append((key, value))
        elif pairs:
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + "," + token)
        else:
            return None
    if any(not v for _, v in pairs):
        return None
    return pairs


def directives(script: str, prefix: str) -> list[list[str]]:
    """Argument lists of the `#PBS` lines before the first command line of the script."""
    found = []
    for line in script.splitlines():
        stripped = line.strip()
        if prefix and line.startswith(prefix) and line[len(prefix):len(prefix) + 1].isspace():
            try:
                found.append(shlex.split(line[len(prefix):], comments=False, posix=True))
            except ValueError:
                found.append([line[len(prefix):].strip()])
        elif stripped and not stripped.startswith("#"):
            break
    return found


def directive_options(script: str, prefix: str) -> list[tuple[str, str]]:
    """Options from all directives; a bad directive is qsub's `directive error` (exit 1)."""
    options: list[tuple[str, str]] = []
    for args in directives(script, prefix):
        parsed = getopt(["qsub", *args], OPTSTRING)
        if parsed.errors or parsed.operands:
            raise QsubError(f"qsub: directive error: {' '.join(args)} \n", 1)
        options.extend(parsed.options)
    return options
