"""Schema versions: a `schema_version` table and a list of upgrade steps run in order at open.

`MIGRATIONS[i]` takes a database from version i+1 to i+2, so the current version is
`len(MIGRATIONS) + 1`. A new database gets every table as the models define them now and is
stamped with the current version (its tables are already current, so no step runs on it). An
existing one runs the steps from its version on, then gains any table it lacks, all in one
transaction: a failing step leaves the database as it was. Adding a table needs no step;
changing an existing table's columns does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Column, Connection, Integer, MetaData, Table, inspect, select, text
from sqlmodel import SQLModel

Migration = Callable[[Connection], None]

_WORKFLOW_ID_COLUMNS = ("compute_job", "cleanup_job", "stage_in_task", "stage_out_task")


def _drop_workflow_id_columns(conn: Connection) -> None:
    """2: one workflow engine. The three-step shape's job and task ids were columns; every
    workflow now keeps its steps' ids in `progress` (where the old records have them too, so
    nothing is lost: `watcher.workflows.upgrade` reads them from there)."""
    found = inspect(conn)
    if "workflow" not in found.get_table_names():
        return
    present = {column["name"] for column in found.get_columns("workflow")}
    indexes = {index["name"] for index in found.get_indexes("workflow")}
    for name in _WORKFLOW_ID_COLUMNS:
        if f"ix_workflow_{name}" in indexes:
            conn.execute(text(f"DROP INDEX ix_workflow_{name}"))
        if name in present:
            conn.execute(text(f"ALTER TABLE workflow DROP COLUMN {name}"))


MIGRATIONS: list[Migration] = [_drop_workflow_id_columns]

_meta = MetaData()
schema_version = Table("schema_version", _meta, Column("version", Integer, nullable=False))

# Any fixed number: PostgreSQL instances starting together take turns migrating.
_PG_LOCK = 0x77A7C4E2


class SchemaError(Exception):
    """The database cannot be used by this watcher (e.g. it was written by a newer version)."""


def current_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version a store has after every migration: the baseline is version 1."""
    return len(migrations) + 1


def migrate(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database on `conn` (inside a transaction) to the current version; return it."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    _meta.create_all(conn)
    found = conn.execute(select(schema_version.c.version)).scalar()
    target = current_version(migrations)
    if found is None:
        SQLModel.metadata.create_all(conn)
        conn.execute(schema_version.insert().values(version=target))
        return target
    if found > target:
        raise SchemaError(
            f"database schema version {found} is newer than this watcher's ({target}); "
            "upgrade watcher"
        )
    for version in range(found, target):
        migrations[version - 1](conn)
    conn.execute(schema_version.update().values(version=target))
    SQLModel.metadata.create_all(conn)
    return target
