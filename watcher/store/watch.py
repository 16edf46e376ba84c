"""The watch list: subjects a source must follow although no listing would show them.

PBS lists the user's jobs by itself; Globus does not: the Globus source asks for the task ids on
this list (chunked `task_list` filters). A stage-out action, a workflow or `--stage-in-task`
adds ids here, in the same transaction as whatever made them known.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from watcher.store.facts import get_fact, put_fact
from watcher.store.models import Fact

_PREFIX = "watch:"


def _key(source: str, subject: str) -> str:
    return f"{_PREFIX}{source}:{subject}"


def watch(session: Session, source: str, subject: str, **info: Any) -> None:
    """Follow `subject` on `source` from the next poll on; `info` says who asked and why."""
    put_fact(session, _key(source, subject), {"source": source, "subject": subject, **info})


def unwatch(session: Session, source: str, subject: str) -> None:
    """Stop watching the subject; a no-op when it was not watched."""
    fact = session.get(Fact, _key(source, subject))
    if fact is not None:
        session.delete(fact)


def watched(session: Session, source: str) -> dict[str, dict[str, Any]]:
    """Every subject watched on `source`, with the info given when it was added."""
    prefix = f"{_PREFIX}{source}:"
    rows = session.exec(select(Fact).where(col(Fact.key).startswith(prefix))).all()
    return {row.key[len(prefix):]: dict(row.value) for row in rows}


def watched_ids(session: Session, source: str) -> set[str]:
    """The subjects watched on `source`, reading keys only (a poll needs no more: decoding
    10,000 facts' JSON cost a Globus poll 250 ms)."""
    prefix = f"{_PREFIX}{source}:"
    keys = session.exec(select(Fact.key).where(col(Fact.key).startswith(prefix))).all()
    return {key[len(prefix):] for key in keys}


def is_watched(session: Session, source: str, subject: str) -> bool:
    """Whether `watch` recorded the subject and no `unwatch` removed it since."""
    return get_fact(session, _key(source, subject)) is not None
