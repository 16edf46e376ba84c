"""Reading `qstat -f -F json` output, including the invalid JSON released PBS versions print.

Three tiers, cheapest first:

1. The whole document through `json` with `strict=False` (raw control characters inside strings,
   one of the quirks, cost nothing there). This is the hot path: a facility's 10,000-job answer
   costs one C-speed decode plus building the snapshots; no regex touches it.
2. When that fails, the document is cut at its job keys (one literal-prefix regex scan) and each
   job is decoded on its own; only a job that fails is repaired (`_repair`), so one bad job costs
   one job's repair, not a regex pass over 40 MB on every poll.
3. A job that still does not decode is skipped with a reason; the others survive.

The repairs lean on qstat's layout (one key per line, 4-space or tab indentation): a line is
structure, so fixing `"foo":005` on a line cannot touch the inside of some other string.

`QstatDocument.complete` says whether the document's end was seen. A truncated answer (qstat
killed mid-output) lists only the jobs before the cut; the caller must not read the rest as gone.
This module never raises on bad input: the worst case is no jobs, `complete=False` and a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from watcher.pbs._repair import closes, find_layout, header_fields, job_spans, repair
from watcher.pbs.snapshot import JobSnapshot


@dataclass(frozen=True)
class SkippedJob:
    """A job that could not be read, and why. `job_id` is None for damage outside any job."""

    job_id: str | None
    reason: str


J = TypeVar("J")


@dataclass
class QstatDocument(Generic[J]):
    """One `qstat -f -F json` answer: the jobs it lists, the server's header, what was skipped.

    A job is a `JobSnapshot` (`parse_qstat_json`) or the plain attribute dict triggers see
    (`parse_qstat_attributes`, the PBS source's hot path).
    """

    jobs: dict[str, J] = field(default_factory=dict)
    server: str | None = None
    timestamp: int | None = None
    skipped: list[SkippedJob] = field(default_factory=list)
    version: str | None = None
    complete: bool = False


class _TextFloat(float):
    """A float that remembers how qstat wrote it, so a variable `1.50` stays "1.50"."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> _TextFloat:
        self = super().__new__(cls, text)
        self.text = text
        return self


_DECODER = json.JSONDecoder(strict=False, parse_float=_TextFloat, parse_constant=_TextFloat)
_DECODE_ERRORS = (ValueError, RecursionError)  # ValueError includes JSONDecodeError
_HEADER_KEYS = frozenset({"timestamp", "pbs_version", "pbs_server", "Jobs"})
_LEADING_SPACE = re.compile(r"\s*")
_INT_TEXT = re.compile(r"[+-]?\d{1,18}")
_VAR_SPLIT = re.compile(r"(?<!\\),")

# Decides from a job's id and raw attributes whether to build its snapshot at all. The source
# watching one user's jobs among a facility's 10,000 builds only those: building costs more
# than decoding.
Select = Callable[[str, dict[str, Any]], bool]
Build = Callable[[str, dict[str, Any]], J]


def parse_qstat_json(text: str, *, select: Select | None = None) -> QstatDocument[JobSnapshot]:
    """Parse qstat's JSON answer; bad jobs are skipped with a reason, nothing is raised.

    With `select`, only the jobs it accepts are built into `jobs` (skipped jobs are reported
    whatever their owner: an unreadable job has no owner to ask).
    """
    return _parse(text, select, job_snapshot)


def parse_qstat_attributes(
    text: str, *, select: Select | None = None
) -> QstatDocument[dict[str, Any]]:
    """`parse_qstat_json`, each job straight as `JobSnapshot.attributes()` would give it.

    Skipping the snapshot halves the cost of building a 10,000-job answer (measured: 50 -> 33
    ms), and the decoded tree is dropped job by job instead of kept as `JobSnapshot.raw`.
    """
    return _parse(text, select, job_attributes)


def _parse(text: str, select: Select | None, build: Build[J]) -> QstatDocument[J]:
    try:
        try:
            data, _ = _DECODER.raw_decode(text, _LEADING_SPACE.match(text).end())
        except _DECODE_ERRORS:
            return _salvage(text, select, build)
        return _from_decoded(data, select, build)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # The fuzz suite found answers the salvage path did not expect: the poll must not
        # crash on them. Incomplete: unknown, not "every job vanished".
        return QstatDocument(skipped=[SkippedJob(None, f"unreadable qstat answer "
                                                       f"({type(exc).__name__})")])


def _from_decoded(data: object, select: Select | None, build: Build[J]) -> QstatDocument[J]:
    if not isinstance(data, dict) or not _HEADER_KEYS & data.keys():
        return QstatDocument(skipped=[SkippedJob(None, "not a qstat document")])
    doc: QstatDocument[J] = QstatDocument(
        server=_str_or_none(data.get("pbs_server")),
        timestamp=_int(data.get("timestamp")),
        version=_str_or_none(data.get("pbs_version")),
        complete=True,
    )
    jobs = data.get("Jobs", {})
    if not isinstance(jobs, dict):
        doc.complete = False  # no way to tell which jobs are listed: unknown, not "none"
        doc.skipped.append(SkippedJob(None, f"Jobs is a {type(jobs).__name__}, not an object"))
        return doc
    for job_id, attrs in jobs.items():
        _add_job(doc, job_id, attrs, select, build)
    return doc


def _salvage(text: str, select: Select | None, build: Build[J]) -> QstatDocument[J]:
    """Tiers 2 and 3: decode job by job, repairing only the jobs that need it."""
    layout = find_layout(text)
    if layout is None:
        return QstatDocument(skipped=[SkippedJob(None, f"no JSON object in {_excerpt(text)}")])
    spans = None if layout.jobs_at is None else job_spans(text, layout.jobs_at)
    if spans is None:  # no Jobs (a small document) or keys not found: repair it whole
        return _decode_whole(text[layout.start :], select, build)
    head = header_fields(text, layout)
    doc: QstatDocument[J] = QstatDocument(
        server=head.get("server"),
        timestamp=_int(head.get("timestamp")),
        version=head.get("version"),
    )
    for i, (job_id, begin, end) in enumerate(spans):
        # A slice, not the whole text: a decode error counts lines up to where it happened.
        _decode_job(doc, job_id, text[begin:end], select, build, last=i == len(spans) - 1)
    doc.complete = closes(text, spans[-1][1] if spans else layout.jobs_at or 0, layout)
    if not doc.complete:
        doc.skipped.append(SkippedJob(None, "output ends before the document does (truncated?)"))
    return doc


def _decode_whole(text: str, select: Select | None, build: Build[J]) -> QstatDocument[J]:
    try:
        data, _ = _DECODER.raw_decode(repair(text))
    except _DECODE_ERRORS as exc:
        return QstatDocument(skipped=[SkippedJob(None, f"unreadable qstat output: {exc}")])
    return _from_decoded(data, select, build)


def _decode_job(
    doc: QstatDocument[J], job_id: str, chunk: str, select: Select | None, build: Build[J],
    *, last: bool,
) -> None:
    """Decode one job's text; repair it only if it does not decode as it is."""
    try:
        attrs, stop = _DECODER.raw_decode(chunk)
    except _DECODE_ERRORS:
        try:
            attrs, stop = _DECODER.raw_decode(repair(chunk))
        except _DECODE_ERRORS as exc:
            where = f" (line {exc.lineno} of the job)" if hasattr(exc, "lineno") else ""
            reason = f"unreadable even after repair{where}: {getattr(exc, 'msg', exc)}"
            doc.skipped.append(SkippedJob(job_id, reason))
            return
        chunk = ""  # the repaired text was decoded; nothing to check after it
    _add_job(doc, job_id, attrs, select, build)
    if not last and chunk[stop:].strip() not in ("", ","):
        doc.skipped.append(SkippedJob(None, f"unreadable text after job {job_id}"))


def _excerpt(text: str) -> str:
    return repr(text[:80]) + ("..." if len(text) > 80 else "")


def _add_job(
    doc: QstatDocument[J], job_id: str, attrs: object, select: Select | None, build: Build[J]
) -> None:
    if not isinstance(attrs, dict):
        doc.skipped.append(SkippedJob(job_id, f"job is a {type(attrs).__name__}, not an object"))
    elif select is None or select(job_id, attrs):
        try:
            doc.jobs[job_id] = build(job_id, attrs)
        except (TypeError, ValueError, AttributeError) as exc:  # a field of an odd JSON type
            doc.skipped.append(SkippedJob(job_id, f"unreadable job: {type(exc).__name__}"))


def job_snapshot(job_id: str, attrs: dict[str, Any]) -> JobSnapshot:
    """The typed view of one job's attributes; any JSON value in any field is tolerated."""
    get = attrs.get
    # Positional: a frozen dataclass's keyword __init__ is a measurable part of a 10,000-job poll.
    return JobSnapshot(
        job_id,
        _text(get("Job_Name", "")),
        _text(get("Job_Owner", "")).partition("@")[0],
        _text(get("queue", "")),
        _text(get("job_state", "")),
        _int(get("substate")),
        _int(get("Exit_status")),
        _text(get("Hold_Types", "n")),
        _text(get("comment", "")),
        _int(get("run_count")) or 0,
        _text(get("depend", "")),
        _text(get("Submit_arguments", "")),
        _text(get("stime", "")),
        _text(get("obittime", "")),
        _variables(get("Variable_List")),
        _mapping(get("Resource_List")),
        _used(get("job_state"), get("resources_used")),
        attrs,
    )


def job_attributes(job_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """What `job_snapshot(job_id, attrs).attributes()` returns, without the snapshot.

    The `__class__` checks take the common case (qstat printed a string or an integer) without
    a call; a test holds the two paths equal on every sample.
    """
    get = attrs.get
    name, owner, queue = get("Job_Name", ""), get("Job_Owner", ""), get("queue", "")
    state, substate, exit_status = get("job_state", ""), get("substate"), get("Exit_status")
    variables = _variables(get("Variable_List"))
    return {
        "id": job_id,
        "name": name if name.__class__ is str else _text(name),
        "owner": (owner if owner.__class__ is str else _text(owner)).partition("@")[0],
        "queue": queue if queue.__class__ is str else _text(queue),
        "state": state if state.__class__ is str else _text(state),
        "substate": substate if substate.__class__ is int else _int(substate),
        "exit_status": exit_status if exit_status.__class__ is int else _int(exit_status),
        "hold_types": _text(get("Hold_Types", "n")),
        "comment": _text(get("comment", "")),
        "run_count": _int(get("run_count")) or 0,
        "depend": _text(get("depend", "")),
        "submit_arguments": _text(get("Submit_arguments", "")),
        "stime": _text(get("stime", "")),
        "obittime": _text(get("obittime", "")),
        "variables": variables,
        "workdir": variables.get("PBS_O_WORKDIR"),
        "resources": _mapping(get("Resource_List")),
        "used": _used(state, get("resources_used")),
    }


_ENDED = frozenset({"E", "F", "X"})


def _mapping(value: object) -> dict[str, Any]:
    """`Resource_List` as qstat printed it (decoded for us alone: no copy needed)."""
    return value if isinstance(value, dict) else {}


def _used(state: object, value: object) -> dict[str, Any]:
    """`resources_used` once the job has ended; while it runs PBS keeps refreshing it."""
    return _mapping(value) if state in _ENDED else {}


def _variables(value: object) -> dict[str, str]:
    if isinstance(value, dict):
        if set(map(type, value.values())) <= {str}:  # the usual case, checked at C speed
            return value  # decoded for us alone: no copy needed
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, str):  # the text form `A=1,B=x\,y`, should a build ever print it
        pairs = (item.partition("=") for item in _VAR_SPLIT.split(value) if item)
        return {k: v.replace("\\,", ",") for k, _, v in pairs}
    return {}


def _text(value: object) -> str:
    """A value as text, as close to what qstat printed as the decoded value allows."""
    if value.__class__ is str:
        return value  # type: ignore[return-value]
    if isinstance(value, _TextFloat):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value)
    return None


def _str_or_none(value: object) -> str | None:
    return None if value is None else _text(value)
