"""Reading collections out of `required_scopes`, and the one login command that fixes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from globus_sdk.scopes import GCSCollectionScopes, TransferScopes

from watcher.globus.consents import (
    collections_in,
    consent_command,
    missing_consents,
    note_missing,
)
from watcher.globus.login import transfer_scope
from watcher.store.db import Store

A, B = "6f1a0000-0000-4000-8000-00000000000a", "6f1a0000-0000-4000-8000-00000000000b"


def test_collections_come_out_of_dependent_scopes_in_their_order() -> None:
    both = str(TransferScopes.all.with_dependencies(
        [GCSCollectionScopes(B).data_access.with_optional(True),
         GCSCollectionScopes(A).data_access]))
    assert collections_in([both]) == [B, A]
    assert collections_in(["not a [scope"]) == []
    assert collections_in([str(TransferScopes.all)]) == []


def test_the_login_scope_asks_for_each_collection_optionally() -> None:
    assert str(transfer_scope([A])) == (
        f"{TransferScopes.all}[*https://auth.globus.org/scopes/{A}/data_access]")
    assert str(transfer_scope()) == str(TransferScopes.all)


def test_the_command_keeps_the_consents_the_login_has() -> None:
    assert consent_command([B], keep=[A, B]) == (
        f"watcher login --collection {A} --collection {B}")


def test_missing_consents_noted_before_the_last_login_are_not_shown(store: Store) -> None:
    with store.session() as session:
        note_missing(session, A, [], "test")
    with store.session(write=False) as session:
        assert missing_consents(session) == [A]
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert missing_consents(session, since=later) == []
