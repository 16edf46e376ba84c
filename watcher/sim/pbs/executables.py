"""Executable jobs (`qsub [options] -- program [args]`): the job is the program, not a script.

qsub.c process_special_args() sets the `executable` attribute to the program and the
`argument_list` attribute to the arguments, XML-encoded one `<jsdl-hpcpa:Argument>` each
(src/lib/Libifl/xml_encode_decode.c); qstat shows the executable wrapped in
`<jsdl-hpcpa:Executable>`. The job name defaults to STDIN. The MoM runs the program itself
(no shell) in the user's home directory.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, unescape

_EXEC = "jsdl-hpcpa:Executable"
_ARG = "jsdl-hpcpa:Argument"
_ENTITIES = {'"': "&quot;", "'": "&apos;"}
_ARGS = re.compile(rf"<{_ARG}>(.*?)</{_ARG}>", re.DOTALL)


def encode_executable(program: str) -> str:
    """The `executable` attribute as qstat prints it."""
    return f"<{_EXEC}>{escape(program, _ENTITIES)}</{_EXEC}>"


def encode_arguments(args: list[str]) -> str:
    """The `argument_list` attribute: one XML element per argument."""
    return "".join(f"<{_ARG}>{escape(a, _ENTITIES)}</{_ARG}>" for a in args)


def decode_executable(value: str) -> str:
    """The program from its qstat form; the inverse of `encode_executable`."""
    inner = value.removeprefix(f"<{_EXEC}>").removesuffix(f"</{_EXEC}>")
    return unescape(inner, {v: k for k, v in _ENTITIES.items()})


def decode_arguments(value: str) -> list[str]:
    """The arguments from the `argument_list` attribute; the inverse of `encode_arguments`."""
    reverse = {v: k for k, v in _ENTITIES.items()}
    return [unescape(a, reverse) for a in _ARGS.findall(value)]
