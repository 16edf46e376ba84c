"""Opening the store: one SQLAlchemy engine, tables and migrations, transactional sessions.

SQLite is the single-user default. It runs in WAL mode (readers never wait for the writer) with a
30 s busy timeout and foreign keys on, and write sessions start with `BEGIN IMMEDIATE`: a
transaction that reads and then writes must hold the write lock from its start, or SQLite fails
it with "database is locked" when another process wrote in between. PostgreSQL
(`postgresql+psycopg://...`) serves several watcher instances at once.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

import watcher.store.models  # noqa: F401  (registers the tables)
from watcher.private import private_file
from watcher.store.migrations import MIGRATIONS, Migration, migrate

_BUSY_TIMEOUT_MS = 30_000


class Store:
    """The watcher's database. `session()` is one transaction: committed, or rolled back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writer = engine.execution_options(sqlite_begin="IMMEDIATE")

    @property
    def dialect(self) -> str:
        """The SQLAlchemy dialect name: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises.

        `write=False` is for read-only work: on SQLite it does not take the write lock
        (`session.info["write"]` says which it is).
        Objects stay readable after the block (they are not expired at commit).
        """
        bind = self.writer if write else self.engine
        with Session(bind, expire_on_commit=False, info={"write": write}) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        """Dispose of the engine's pooled connections; the store is unusable after."""
        self.engine.dispose()


def shown_url(url: str) -> str:
    """The URL as it may be printed or logged: any password replaced by `***`.

    SQLAlchemy's own rendering where the URL parses; where it does not, the text between the
    user name and the host is masked by hand, since an unparseable URL can still hold one.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # a bad port, no scheme
        return _PASSWORD_IN_URL.sub(r"\1***@", url)


def without_secrets(text: str, url: str) -> str:
    """`text` (an error message) with `url` and any password in it masked."""
    text = text.replace(url, shown_url(url))
    match = _PASSWORD_IN_URL.search(url)
    secret = match.group(2) if match else ""
    return text.replace(secret, "***") if secret else text


def take_turns(session: Session, name: str) -> None:
    """Make transactions named `name` take turns: on PostgreSQL a transaction-scoped advisory
    lock (instances running the same step on shared state wait for each other; statements
    after it see what the one before committed). SQLite's write transactions already do.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"watcher:{name}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other databases, in-memory SQLite and a URL that
    does not parse (opening it says why)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


_PASSWORD_IN_URL = re.compile(r"^([^:/?#]+://[^:/?#@]*:)([^@/]*)@")


def open_store(url: str, *, migrations: Sequence[Migration] = MIGRATIONS) -> Store:
    """Open (creating if needed) the database at `url` and bring its schema up to date.

    A SQLite file is created 0600 in 0700 directories; one others can write is refused
    (`watcher.private.NotPrivate`)."""
    path = sqlite_path(url)
    if path is not None:  # SQLite's -wal and -shm files take the database file's mode
        private_file(path)
    engine = _create_engine(url)
    store = Store(engine)
    with store.writer.begin() as conn:
        migrate(conn, migrations)
    return store


def _create_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {}
    if sqlite_path(url) is None:  # one shared connection, or each would see its own empty db
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_engine(url, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, so it can be BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
