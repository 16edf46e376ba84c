"""Text surgery on qstat's invalid JSON: where the jobs are, and how to fix what PBS got wrong.

Only used when a document does not decode as it is. Everything here leans on the layout qstat
prints (`src/lib/Libcmds/pbs_json.c`, or cJSON's tabs in newer builds): one key per line, nested
objects indented deeper than their parent. A line is structure, so a fix anchored to a line
(`"foo":005` -> `"foo":"005"`) cannot reach inside some other string.

What the old generator gets wrong: any value `strtod()` accepts is printed bare (`005`,
`0000000`, `+5`, `.5`, `0x1A`, `inf`, even the empty string), values pass through with PBS's own
escapes (`\\,` `\\'`) or none at all (quotes and backslashes inside `comment` or a `BASH_FUNC_*`
body from `qsub -V`), and a value may carry a raw newline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Layout:
    """Where the document is: its opening brace, that line's indentation, the `Jobs` object."""

    start: int
    indent: str
    compact: bool
    jobs_at: int | None  # just after `"Jobs":{`; None when the document has no Jobs


_DOC_START = re.compile(r"^([ \t]*)\{([^\n]*)", re.M)
_JOBS_KEY = re.compile(r'"Jobs"[ \t]*:[ \t]*\{')
_FIRST_JOB_LINE = re.compile(r'[ \t\r]*\n([ \t]*)"')
_EMPTY_OBJECT = re.compile(r"\s*\}")
_COMPACT_JOB_KEY = re.compile(r'"(\d+(?:\[\d*\])?(?:\.[^"\s]*)?)"\s*:\s*(?=\{)')
_HEADER = {
    "timestamp": re.compile(r'"timestamp"\s*:\s*(\d{1,18})\b'),
    "server": re.compile(r'"pbs_server"\s*:\s*"([^"\n]*)"'),
    "version": re.compile(r'"pbs_version"\s*:\s*"([^"\n]*)"'),
}


def find_layout(text: str) -> Layout | None:
    """Find the first line opening an object (a `-u` table or stray stderr line may precede)."""
    m = _DOC_START.search(text)
    if m is None:
        return None
    jobs = _JOBS_KEY.search(text, m.end(1))
    return Layout(m.end(1), m[1], bool(m[2].strip()), jobs.end() if jobs else None)


def header_fields(text: str, layout: Layout) -> dict[str, str]:
    """timestamp, server and version as found in the text before `Jobs`."""
    head = text[layout.start : layout.jobs_at or len(text)]
    found = {name: pattern.search(head) for name, pattern in _HEADER.items()}
    return {name: m[1] for name, m in found.items() if m}


def job_spans(text: str, pos: int) -> list[tuple[str, int, int]] | None:
    """(job id, index of its `{`, end of its text) for each key of the `Jobs` object at `pos`.

    Job keys are the lines at the first key's indentation, found by one literal-prefix scan.
    None when no key can be found although `Jobs` is not empty.
    """
    first = _FIRST_JOB_LINE.match(text, pos)
    if first is not None:
        keys = list(_job_key(first[1]).finditer(text, pos))
    elif _EMPTY_OBJECT.match(text, pos):
        return []
    else:
        keys = list(_COMPACT_JOB_KEY.finditer(text, pos))
    if not keys:
        return None
    ends = [m.start() for m in keys[1:]] + [len(text)]
    return [(m[1], m.end(), end) for m, end in zip(keys, ends, strict=True)]


@lru_cache(maxsize=8)
def _job_key(indent: str) -> re.Pattern[str]:
    return re.compile(re.escape("\n" + indent + '"') + r'([^"\n]+)"[ \t]*:[ \t]*(?=\{)')


def closes(text: str, pos: int, layout: Layout) -> bool:
    """Whether the document's closing brace comes after `pos` (false for truncated output).

    The closing brace sits alone on a line at the opening brace's indentation; nested objects
    close deeper. A one-line document can only be checked by its last character.
    """
    if layout.compact:
        return text.rstrip().endswith("}")
    return _closing(layout.indent).search(text, pos) is not None


@lru_cache(maxsize=8)
def _closing(indent: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(indent) + r"\}[ \t]*\r?$", re.M)


# A newline is structure when the next line holds a key, a lone brace, or nothing.
_RAW_NEWLINE = re.compile(
    r'\r?\n(?![ \t]*(?:"[^"\n]*"[ \t]*(?::|,?[ \t]*\r?$)|[{}\[\]][ \t]*,?[ \t]*\r?$|\r?$))', re.M
)
_PBS_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\([,'])")
_TRAILING_BACKSLASH = re.compile(r'(?<!\\)((?:\\\\)*)\\("[ \t]*,?[ \t]*\r?)$', re.M)
_BARE_VALUE = re.compile(
    r'^([ \t]*"[^"\n]*"[ \t]*:[ \t]*)'
    r"(?!(?:-?(?:0|[1-9]\d{0,299})(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|NaN|-?Infinity)"
    r"[ \t]*,?[ \t]*\r?$)"
    r'([^"{\[\s,][^",\n]*?|)'
    r"([ \t]*,?[ \t]*\r?)$",
    re.M,
)
_BAD_ESCAPE = re.compile(r'(?<!\\)((?:\\\\)*)\\(?=[^"\\/bfnrtu]|u(?![0-9a-fA-F]{4}))')
_STRAY_QUOTES = re.compile(
    r'^([ \t]*"[^"\n]*"[ \t]*:[ \t]*")((?:[^"\\\n]|\\.)*"[^\n]*)("[ \t]*,?[ \t]*\r?)$', re.M
)
_UNESCAPED_QUOTE = re.compile(r'(?<!\\)((?:\\\\)*)"')


def repair(chunk: str) -> str:
    """Fix the known ways qstat breaks JSON, in an order where each fix sees valid escapes."""
    chunk = _RAW_NEWLINE.sub(r"\\n", chunk)  # a value split over lines becomes one line
    chunk = _PBS_ESCAPE.sub(r"\1\2", chunk)  # `ab\,c` means `ab,c` (PBS escapes its delimiter)
    chunk = _TRAILING_BACKSLASH.sub(r"\1\\\\\2", chunk)  # `"C:\dir\",` ends with a backslash
    chunk = _BARE_VALUE.sub(r'\1"\2"\3', chunk)  # `005`, `0000000`, `.5`, `` -> strings
    chunk = _BAD_ESCAPE.sub(r"\1\\\\", chunk)  # any other `\x` is a literal backslash
    return _STRAY_QUOTES.sub(_escape_quotes, chunk)  # `"a "quoted" word"`


def _escape_quotes(m: re.Match[str]) -> str:
    return m[1] + _UNESCAPED_QUOTE.sub(r'\1\\"', m[2]) + m[3]
