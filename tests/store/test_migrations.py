"""Schema versions: a new database is stamped, upgrade steps run once, in order, atomically."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, inspect, select, text

from watcher.store.db import open_store
from watcher.store.migrations import MIGRATIONS, SchemaError, current_version, schema_version

NOW = len(MIGRATIONS) + 1  # this watcher's version


def _version(url: str) -> int:
    store = open_store(url)
    with store.engine.connect() as conn:
        version = conn.execute(select(schema_version.c.version)).scalar_one()
    store.close()
    return version


def test_a_new_database_has_every_table_and_the_current_version(store_url: str) -> None:
    store = open_store(store_url)
    tables = set(inspect(store.engine).get_table_names())
    store.close()
    assert {"snapshot", "source_health", "event", "rule_state", "firing", "intent", "fact",
            "schema_version"} <= tables
    assert _version(store_url) == current_version() == NOW


def test_upgrade_steps_run_once_in_order(store_url: str) -> None:
    open_store(store_url).close()
    calls: list[str] = []

    def add_note(conn: Connection) -> None:
        calls.append("next")
        conn.execute(text("ALTER TABLE fact ADD COLUMN note VARCHAR"))

    def fill_note(conn: Connection) -> None:
        calls.append("after")
        conn.execute(text("UPDATE fact SET note = 'n'"))

    steps = [*MIGRATIONS, add_note, fill_note]
    for _ in range(3):
        open_store(store_url, migrations=steps).close()
    assert calls == ["next", "after"]
    store = open_store(store_url, migrations=steps)
    assert "note" in {c["name"] for c in inspect(store.engine).get_columns("fact")}
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalar_one() == NOW + 2
    store.close()


def test_a_failing_step_leaves_the_database_as_it_was(store_url: str) -> None:
    open_store(store_url).close()

    def add_then_fail(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE fact ADD COLUMN note VARCHAR"))
        raise RuntimeError("step 2 broke")

    with pytest.raises(RuntimeError, match="step 2 broke"):
        open_store(store_url, migrations=[*MIGRATIONS, add_then_fail])
    store = open_store(store_url)
    assert "note" not in {c["name"] for c in inspect(store.engine).get_columns("fact")}
    store.close()
    assert _version(store_url) == NOW


def test_a_database_from_a_newer_watcher_is_refused(store_url: str) -> None:
    open_store(store_url, migrations=[*MIGRATIONS, lambda conn: None]).close()
    with pytest.raises(SchemaError, match=f"schema version {NOW + 1} is newer than this "
                                          "watcher's"):
        open_store(store_url)
