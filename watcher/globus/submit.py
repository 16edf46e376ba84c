"""Submitting a Globus transfer exactly once per intent, across crashes and retries.

Globus runs a given `submission_id` at most once: a second POST with it is answered `200` with
code `Duplicate` and the first task's id (documented result codes `Accepted` / `Duplicate`;
the emulator answers the same). So the id is the whole guarantee, and `submit_once` keeps it in
the store under `submission:<intent key>`:

1. the fact names a task already: done, no request (the ledger lost only our record of it);
2. else reuse the fact's submission id, or get a new one and COMMIT it before submitting;
3. submit with it; `Accepted` and `Duplicate` both give the task id, recorded with the fact and
   put on the watch list (`watch(session, "globus", task_id)`) in one transaction.

A crash anywhere repeats at most step 3 with the same id, which Globus answers with the first
task. Without a store there is nothing to remember the id in: each attempt submits afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import globus_sdk
from sqlalchemy.exc import IntegrityError

from watcher.globus.consents import (
    collections_in,
    consent_command,
    is_consent_required,
    note_missing,
    required_scopes,
)
from watcher.globus.errors import CredentialsExpired, describe, is_invalid_grant, is_transient
from watcher.store.db import Store
from watcher.store.facts import get_fact, put_fact
from watcher.store.watch import watch


class SubmitError(Exception):
    """The submission failed; `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Submitted:
    """The task for the intent. `duplicate`: Globus already had it (an earlier attempt's submit
    went through); `recorded`: the store named it already, so nothing was sent."""

    task_id: str
    submission_id: str
    duplicate: bool = False
    recorded: bool = False


def fact_key(intent_key: str) -> str:
    """The store fact that remembers the Globus submission id of one intent."""
    return f"submission:{intent_key}"


def submit_once(tc: globus_sdk.TransferClient, data_for: Callable[[str], Any], *,
                store: Store | None, intent_key: str,
                watch_info: Mapping[str, Any] | None = None) -> Submitted:
    """Submit `data_for(submission_id)` once for `intent_key` (see the module docstring).

    Blocking (HTTP and database): call it from a worker thread. Raises `SubmitError`.
    """
    try:
        if store is None:
            return _post(tc, data_for, _new_submission_id(tc))
        known = _read(store, intent_key)
        if known.get("task_id"):
            return Submitted(known["task_id"], known["submission_id"], recorded=True)
        submission_id = known.get("submission_id") or _remember(store, intent_key,
                                                                _new_submission_id(tc))
        done = _post(tc, data_for, submission_id)
    except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError, CredentialsExpired) as exc:
        if store is not None and is_consent_required(exc):
            _note_consents(store, exc)
        raise classify(exc) from exc
    _record(store, intent_key, done, dict(watch_info or {}))
    return done


def _new_submission_id(tc: globus_sdk.TransferClient) -> str:
    return str(tc.get_submission_id()["value"])


def _post(tc: globus_sdk.TransferClient, data_for: Callable[[str], Any],
          submission_id: str) -> Submitted:
    answer = tc.submit_transfer(data_for(submission_id))
    return Submitted(str(answer["task_id"]), submission_id,
                     duplicate=answer.get("code") == "Duplicate")


def _read(store: Store, intent_key: str) -> dict[str, Any]:
    with store.session(write=False) as session:
        return get_fact(session, fact_key(intent_key)) or {}


def _remember(store: Store, intent_key: str, fresh_id: str) -> str:
    """Store `fresh_id` unless another worker stored one first; the stored one wins."""
    try:
        with store.session() as session:
            known = get_fact(session, fact_key(intent_key))
            if known and known.get("submission_id"):
                return str(known["submission_id"])
            put_fact(session, fact_key(intent_key), {"submission_id": fresh_id})
            return fresh_id
    except IntegrityError:  # PostgreSQL: a concurrent insert of the same key won
        return str(_read(store, intent_key)["submission_id"])


def _note_consents(store: Store, exc: BaseException) -> None:
    """Remember the collections Globus wants consent for, for `watcher status`."""
    assert isinstance(exc, globus_sdk.GlobusAPIError)
    scopes = required_scopes(exc)
    with store.session() as session:
        for collection in collections_in(scopes):
            note_missing(session, collection, scopes, "a transfer was refused")


def _record(store: Store | None, intent_key: str, done: Submitted, info: dict[str, Any]) -> None:
    if store is None:
        return
    with store.session() as session:
        put_fact(session, fact_key(intent_key),
                 {"submission_id": done.submission_id, "task_id": done.task_id})
        watch(session, "globus", done.task_id, key=intent_key, **info)


def classify(exc: Exception) -> SubmitError:
    """What a failed call means for the intent: passing faults retry, the rest do not.

    A login Globus refuses is permanent: trying the same tokens again cannot help, and the dead
    intent is visible (and can mail) until `watcher login` and a new firing.
    """
    if isinstance(exc, CredentialsExpired):
        return SubmitError(f"Globus login expired ({exc}); run `watcher login`",
                           retryable=False)
    if isinstance(exc, globus_sdk.NetworkError):
        return SubmitError(f"cannot reach Globus: {exc}", retryable=True)
    what = describe(exc)
    if isinstance(exc, globus_sdk.GlobusAPIError) and is_consent_required(exc):
        scopes = required_scopes(exc)
        command = consent_command(collections_in(scopes))
        return SubmitError(f"Globus needs a consent the stored login lacks ({what}): run "
                           f"`{command}` (it asks for {', '.join(scopes)})", retryable=False)
    # 401: Transfer still rejects the access token after the SDK refreshed it and retried.
    if is_invalid_grant(exc) or getattr(exc, "http_status", None) == 401:
        return SubmitError(f"Globus refused the stored login ({what}); run `watcher login`",
                           retryable=False)
    if is_transient(exc):
        return SubmitError(f"Globus is not answering well: {what}", retryable=True)
    return SubmitError(f"Globus refused the transfer: {what}", retryable=False)
