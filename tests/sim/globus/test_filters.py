from __future__ import annotations

import pytest

from watcher.sim.globus.filters import (
    QueryError,
    matches,
    order,
    page_bounds,
    parse_filter,
    select_fields,
)

DOCS = [
    {"task_id": "a", "status": "ACTIVE", "type": "TRANSFER",
     "request_time": "2024-01-02T00:00:00+00:00"},
    {"task_id": "b", "status": "SUCCEEDED", "type": "TRANSFER",
     "request_time": "2024-01-01T00:00:00+00:00"},
    {"task_id": "c", "status": "FAILED", "type": "DELETE",
     "request_time": "2024-01-03T00:00:00+00:00"},
]


def pick(text: str) -> list[str]:
    clauses = parse_filter(text)
    return [d["task_id"] for d in DOCS if matches(d, clauses)]


def test_sdk_filter_format_selects_by_ids_status_and_type() -> None:
    assert pick("task_id:a,c") == ["a", "c"]
    assert pick("task_id:a,b,c/status:ACTIVE,FAILED") == ["a", "c"]
    assert pick("type:TRANSFER,DELETE/status:ACTIVE,INACTIVE") == ["a"]
    assert pick("") == ["a", "b", "c"]


def test_time_ranges_accept_open_ends_and_dates() -> None:
    assert pick("request_time:2024-01-02,") == ["a", "c"]
    assert pick("request_time:,2024-01-01 12:00:00") == ["b"]


def test_an_open_ended_completion_time_also_lists_tasks_not_completed_yet() -> None:
    docs = [{"task_id": "live", "completion_time": None},
            {"task_id": "old", "completion_time": "2024-01-01T00:00:00+00:00"},
            {"task_id": "new", "completion_time": "2024-01-03T00:00:00+00:00"}]

    def ids(text: str) -> list[str]:
        return [d["task_id"] for d in docs if matches(d, parse_filter(text))]

    assert ids("completion_time:2024-01-02T00:00:00,") == ["live", "new"]
    assert ids("completion_time:2024-01-02,2024-01-04") == ["new"]  # a closed range: done only
    assert ids("completion_time:,2024-01-02") == ["old"]


@pytest.mark.parametrize("bad", ["nonsense", "colour:red", "request_time:yesterday,"])
def test_bad_filters_are_query_errors(bad: str) -> None:
    with pytest.raises(QueryError):
        pick(bad)


def test_orderby_and_default_newest_first() -> None:
    assert [d["task_id"] for d in order(DOCS, None)] == ["c", "a", "b"]
    assert [d["task_id"] for d in order(DOCS, "task_id ASC")] == ["a", "b", "c"]
    with pytest.raises(QueryError):
        order(DOCS, "task_id SIDEWAYS")


def test_paging_bounds() -> None:
    assert page_bounds(None, None) == (10, 0)
    assert page_bounds("1000", "20") == (1000, 20)
    for limit, offset in (("0", "0"), ("1001", "0"), ("5", "-1"), ("x", "0")):
        with pytest.raises(QueryError):
            page_bounds(limit, offset)


def test_fields_keep_data_type() -> None:
    doc = {"DATA_TYPE": "task", "task_id": "a", "status": "ACTIVE"}
    assert select_fields(doc, "task_id") == {"DATA_TYPE": "task", "task_id": "a"}
    assert select_fields(doc, None) == doc
