"""The store: SQLite by default, PostgreSQL for many users. See `db.open_store`."""

from watcher.store.db import Store, open_store

__all__ = ["Store", "open_store"]
