"""The simulator's datastore: one SQLite file shared by the server, the runners and the shims.

WAL mode lets shims read while the server writes; every write runs in `BEGIN IMMEDIATE` so two
writers queue on the busy timeout instead of failing half-way, and a job can never be lost or
half-updated by 20 concurrent `qsub` calls.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    substate INTEGER NOT NULL,
    attrs TEXT NOT NULL,
    script TEXT NOT NULL,
    nodes TEXT,
    runner_pid INTEGER,
    obit TEXT,
    deleting INTEGER NOT NULL DEFAULT 0,
    abort_reason TEXT,
    changed REAL NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'job',
    parent INTEGER,
    idx INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state);
"""

# Server settings and their defaults. `next_seq` survives `wipe`: a wiped PBS keeps counting.
DEFAULTS: dict[str, Any] = {
    "server_name": "pbs-sim",
    "nodes": 2,
    "ncpus_per_node": 1,
    "vnodes": [],  # named vnodes (cluster.VnodeSpec.as_setting()); empty: node01..nodeNN
    "user_home": None,  # the jobs' $HOME and start directory; None: the password entry's
    "queues": ["workq"],
    "default_queue": "workq",
    "next_seq": 0,
    "next_row": 0,  # subjobs' own row keys count down from -1 (never a job's sequence number)
    "tick": 0.1,
    "kill_delay": 2.0,
    "operators": [],
    "managers": [],
    # Seconds the server's clock is ahead of this host's (negative: behind); it stamps mtime.
    "clock_offset": 0.0,
    # Reproduce OpenPBS issue 2672: `qstat -f -F json` with several ids answers only the first.
    "issue_2672": False,
    # Log what each qstat/qselect made the server send (see requests.py).
    "count_requests": False,
}


def connect(db: Path) -> sqlite3.Connection:
    """Open the datastore in autocommit mode; use `transaction()` for writes."""
    conn = sqlite3.connect(db, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def initialise(db: Path, **settings: Any) -> None:
    """Create the schema (idempotent), switch to WAL and store the given settings."""
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(db)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        _add_array_columns(conn)
        conn.execute("CREATE INDEX IF NOT EXISTS jobs_by_parent ON jobs(parent)")
        # The server looks at unfinished arrays every tick: a partial index keeps that cheap
        # on a server full of plain jobs.
        conn.execute("CREATE INDEX IF NOT EXISTS jobs_arrays ON jobs(state) "
                     "WHERE kind='array'")
        with transaction(conn):
            for key, value in DEFAULTS.items():
                conn.execute("INSERT OR IGNORE INTO settings VALUES (?, ?)",
                             (key, json.dumps(value)))
            for key, value in settings.items():
                if value is not None:
                    set_setting(conn, key, value)
    finally:
        conn.close()


def _add_array_columns(conn: sqlite3.Connection) -> None:
    """A datastore made before job arrays lacks their columns: add them (every job plain)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    for column, decl in (("kind", "TEXT NOT NULL DEFAULT 'job'"), ("parent", "INTEGER"),
                         ("idx", "INTEGER")):
        if column not in have:
            conn.execute(f"ALTER TABLE jobs ADD COLUMN {column} {decl}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def settings(conn: sqlite3.Connection) -> dict[str, Any]:
    """The defaults overlaid with what `set_setting` stored."""
    values = dict(DEFAULTS)
    values.update({k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM settings")})
    return values


def set_setting(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Store one setting; an unknown key is a KeyError (a typo must not be silently ignored)."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown simulator setting {key!r}")
    conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))


def next_seq(conn: sqlite3.Connection) -> int:
    """Allocate the next job sequence number; call inside a transaction."""
    seq = int(json.loads(conn.execute(
        "SELECT value FROM settings WHERE key='next_seq'").fetchone()[0]))
    set_setting(conn, "next_seq", seq + 1)
    return seq


def next_row(conn: sqlite3.Connection) -> int:
    """A row key for a subjob (negative: a subjob's id is its parent's number and index)."""
    row = int(json.loads(conn.execute(
        "SELECT value FROM settings WHERE key='next_row'").fetchone()[0])) - 1
    set_setting(conn, "next_row", row)
    return row
