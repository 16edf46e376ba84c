"""Watched Globus tasks: fetched in chunks with `task_list`, never one `get_task` per task.

`task_list(filter={"task_id": [a, b, c]})` sends `filter=task_id:a,b,c` and answers every listed
task the user owns in one page (`limit` = the chunk). N watched tasks cost ceil(N / chunk)
requests per poll, which keeps a user well inside Globus's ~20 requests/s. A task not in the
answer (another user's, or a mistyped id) is simply absent: the diff counts it as missing.

The user's own tasks, wherever they were started (the web app, globus-cli, a script), come from
one more listing: `task_list(filter={"completion_time": "SINCE,"})`. With its end left open,
Transfer lists the tasks completed since SINCE *and* every task not completed yet, so one paged
request (1000 a page, usually one page) answers "what is live or ended since I last looked".
What a task document means (statuses, attributes) is `watcher.globus.task_fields`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from watcher.globus.errors import json_documents, json_object

if TYPE_CHECKING:
    import globus_sdk

def chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    """`ids` in lists of at most `size` (Globus caps a filter's ids), order kept."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def fetch_tasks(client: globus_sdk.TransferClient, ids: Sequence[str], chunk: int
                ) -> tuple[list[dict[str, Any]], int]:
    """The task documents of `ids` (those the user owns), and how many requests that took.

    Raises the SDK's errors; a failed chunk fails the whole fetch, because tasks of an
    unanswered chunk are unknown, not missing.
    """
    docs: list[dict[str, Any]] = []
    requests = 0
    for part in chunks(ids, chunk):
        answer = client.task_list(filter={"task_id": part}, limit=len(part))
        requests += 1
        docs.extend(dict(doc) for doc in json_documents(answer, "task_list"))
    return docs, requests


OWN_PAGE = 1000  # the most task_list answers in one page
OWN_MAX_PAGES = 10  # past 10,000 live-or-just-ended tasks, the oldest wait for the next poll


def own_filter(since: datetime) -> dict[str, str]:
    """Live tasks and those completed since `since` (UTC, to the second: Transfer's format)."""
    return {"completion_time": f"{since.astimezone(UTC):%Y-%m-%dT%H:%M:%S},"}


def fetch_own_tasks(client: globus_sdk.TransferClient, since: datetime
                    ) -> tuple[list[dict[str, Any]], int]:
    """The user's tasks that are live or completed since `since`, and how many requests that
    took (one, unless more than a page of tasks moved). Raises the SDK's errors."""
    docs: list[dict[str, Any]] = []
    for page in range(OWN_MAX_PAGES):
        answer = client.task_list(filter=own_filter(since), orderby="request_time DESC",
                                  limit=OWN_PAGE, offset=page * OWN_PAGE)
        batch = [dict(doc) for doc in json_documents(answer, "task_list")]
        docs.extend(batch)
        total = json_object(answer, "task_list").get("total")
        if len(batch) < OWN_PAGE or (isinstance(total, int) and len(docs) >= total):
            return docs, page + 1
    return docs, OWN_MAX_PAGES
