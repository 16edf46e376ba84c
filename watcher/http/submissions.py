"""Idempotent submissions: a client-supplied key makes a repeated POST one workflow.

As Globus does with submission ids: the first POST with a key records it (with a digest of
what was asked) before anything is submitted; a repeat with the same key and the same request
answers with the workflow the first one made, and a repeat with another request is refused
(a key is one submission). The key is a row of the store, so instances sharing a PostgreSQL
store agree: the row's primary key lets only one of two racing POSTs reserve it. A key
reserved by a submission that never recorded its workflow (the process died in between) is
free again after `ABANDONED`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from watcher.store.facts import get_fact, put_fact
from watcher.store.models import Fact

PREFIX = "http-submission:"
ABANDONED = timedelta(minutes=10)
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


@dataclass(frozen=True)
class Seen:
    """What the store knows of a key: the request's digest and its workflow, if recorded."""

    digest: str
    workflow: str | None
    reserved_at: datetime


def digest(body: bytes) -> str:
    """The SHA-256 hex digest of a request body, to tell a replay from a different body."""
    return hashlib.sha256(body).hexdigest()


def look_up(session: Session, key: str) -> Seen | None:
    """What an idempotency key was first used for, or None when it is new."""
    value = get_fact(session, PREFIX + key)
    if value is None:
        return None
    return Seen(value["digest"], value.get("workflow"),
                datetime.fromisoformat(value["reserved_at"]))


def reserve(session: Session, key: str, body_digest: str, now: datetime) -> Seen | None:
    """Reserve `key` for this request; returns what holds it instead, if anything does."""
    seen = look_up(session, key)
    if seen is not None and (seen.workflow or now - seen.reserved_at < ABANDONED):
        return seen
    value = {"digest": body_digest, "workflow": None, "reserved_at": now.isoformat()}
    if seen is not None:  # abandoned: take it over
        put_fact(session, PREFIX + key, value)
        return None
    session.add(Fact(key=PREFIX + key, value=value))
    try:
        session.flush()
    except IntegrityError:  # another instance reserved it a moment ago
        session.rollback()
        return look_up(session, key)
    return None


def bind(session: Session, key: str, workflow_id: str) -> None:
    """The reserved key now names `workflow_id`."""
    value = get_fact(session, PREFIX + key) or {}
    put_fact(session, PREFIX + key, {**value, "workflow": workflow_id})


def release(session: Session, key: str) -> None:
    """Nothing was recorded (the request was refused): the key may be used again."""
    fact = session.get(Fact, PREFIX + key)
    if fact is not None and not fact.value.get("workflow"):
        session.delete(fact)
