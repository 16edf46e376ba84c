"""The ledger's tests run against every database kind the store supports."""

from tests.store.conftest import store, store_url

__all__ = ["store", "store_url"]
