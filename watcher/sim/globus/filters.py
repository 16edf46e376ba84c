"""task_list's `filter`, `orderby`, `fields` and limit/offset paging, on task documents. Pure.

The SDK formats `filter={"task_id": [a, b], "status": "ACTIVE"}` as `task_id:a,b/status:ACTIVE`:
clauses joined by `/`, values by `,`. Time clauses take `start,end` (either side may be empty).
As Transfer documents it, `completion_time:START,` (no end) also lists every task that has not
completed yet, "since they will complete some time in the future": one request then answers
"my tasks that are live or finished since START".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10
_LIST_KEYS = ("task_id", "status", "type", "label", "owner_id")
_TIME_KEYS = ("request_time", "completion_time")
_EVENT_KEYS = ("is_error",)


class QueryError(ValueError):
    """A malformed filter, orderby or paging parameter (HTTP 400)."""


def parse_filter(text: str | None, allowed: Iterable[str] = _LIST_KEYS + _TIME_KEYS
                 ) -> dict[str, list[str]]:
    """A Transfer `filter` ("key:v1,v2/key:..."), keys limited to `allowed`; QueryError if bad."""
    clauses: dict[str, list[str]] = {}
    allowed = tuple(allowed)
    for clause in (text or "").split("/"):
        if not clause.strip():
            continue
        key, sep, value = clause.partition(":")
        key = key.strip()
        if not sep or key not in allowed:
            raise QueryError(f"invalid filter clause {clause!r}")
        clauses[key] = [v.strip() for v in value.split(",")]
    return clauses


def matches(doc: dict[str, Any], clauses: dict[str, list[str]]) -> bool:
    """Whether a document passes every clause; a time clause is a "from,to" range."""
    for key, values in clauses.items():
        if key in _TIME_KEYS:
            if key == "completion_time" and doc.get(key) is None and not _end(values):
                continue  # not completed yet: it will complete after any start
            if not _in_range(doc.get(key), values):
                return False
        elif key in _EVENT_KEYS:
            if str(int(bool(doc.get(key)))) not in values:
                return False
        elif str(doc.get(key)) not in values:
            return False
    return True


def _end(bounds: list[str]) -> str:
    return bounds[1].strip() if len(bounds) > 1 else ""


def _in_range(value: str | None, bounds: list[str]) -> bool:
    if value is None:
        return False
    start, end = [*bounds, "", ""][:2]
    moment = _parse_time(value)
    return (not start or moment >= _parse_time(start)) and (not end or moment <= _parse_time(end))


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError as exc:
        raise QueryError(f"invalid time {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def order(docs: list[dict[str, Any]], orderby: str | None,
          default: str = "request_time DESC") -> list[dict[str, Any]]:
    """Sort by `field [ASC|DESC]` options, comma-separated; the first option ranks first."""
    for option in reversed([o.strip() for o in (orderby or default).split(",") if o.strip()]):
        name, _, direction = option.partition(" ")
        if direction.strip().upper() not in ("", "ASC", "DESC"):
            raise QueryError(f"invalid orderby {option!r}")
        docs = sorted(docs, key=lambda d, n=name: (d.get(n) is None, str(d.get(n) or "")),
                      reverse=direction.strip().upper() == "DESC")
    return docs


def page_bounds(limit: str | None, offset: str | None) -> tuple[int, int]:
    """Integer (limit, offset) with Transfer's default and maximum; QueryError if out of range."""
    try:
        lim = DEFAULT_LIMIT if limit in (None, "") else int(limit)
        off = 0 if offset in (None, "") else int(offset)
    except ValueError as exc:
        raise QueryError("limit and offset must be integers") from exc
    if not 0 < lim <= MAX_LIMIT or off < 0:
        raise QueryError(f"limit must be 1..{MAX_LIMIT} and offset >= 0")
    return lim, off


def select_fields(doc: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Only the comma-separated `fields` (DATA_TYPE always kept); all of it when not given."""
    if not fields:
        return doc
    wanted = {"DATA_TYPE", *(f.strip() for f in fields.split(","))}
    return {key: value for key, value in doc.items() if key in wanted}
