"""The store: SQLite by default, PostgreSQL for many users. See `db.open_store`.

Import from the modules (`watcher.store.db`, `.facts`, ...): this package imports nothing,
so a light module such as `facts` does not bring in SQLAlchemy's engine by itself.
"""
