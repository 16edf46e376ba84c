"""A throwaway PostgreSQL server for the store's tests, or the reason there cannot be one.

It runs from the local `initdb`/`pg_ctl` (the Debian `postgresql` package), in a temporary
directory, listening on 127.0.0.1 and a Unix socket in that directory, and is stopped at
teardown. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

_counter = itertools.count()
_shared: dict[str, str] = {}


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None if one can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    if not (_binary("initdb") and _binary("pg_ctl")):
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0 and not _postgres_user():
        return "running as root and there is no 'postgres' user to run the server as"
    return None


def _binary(name: str) -> str | None:
    """On PATH, else where Debian's `postgresql` package puts it (not on PATH there)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _postgres_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(argv: list[str], as_user: str | None) -> None:
    if as_user:
        argv = ["runuser", "-u", as_user, "--", _binary(argv[0]) or argv[0], *argv[1:]]
    else:
        argv = [_binary(argv[0]) or argv[0], *argv[1:]]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


@contextmanager
def server() -> Iterator[str]:
    """Start a server; yield its admin URL (`postgresql+psycopg://watcher@127.0.0.1:PORT`)."""
    # Not under pytest's tmp_path: its parents are private to root, and the server may run
    # as another user who must reach this directory.
    home = Path(tempfile.mkdtemp(prefix="watcher-pg-"))
    user = _postgres_user() if os.geteuid() == 0 else None
    if user:
        os.chown(home, user.pw_uid, user.pw_gid)
    as_user = user.pw_name if user else None
    data, port = home / "data", _free_port()
    try:
        _run(["initdb", "-D", str(data), "-A", "trust", "-U", "watcher", "-E", "UTF8"], as_user)
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off"
        _run(["pg_ctl", "-D", str(data), "-o", options, "-l", str(home / "log"), "-w",
              "start"], as_user)
        try:
            yield f"postgresql+psycopg://watcher@127.0.0.1:{port}"
        finally:
            _run(["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"], as_user)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def new_database(admin_url: str) -> str:
    """Create an empty database on the server; return its SQLAlchemy URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin_url.replace("+psycopg", "") + "/postgres",
                         autocommit=True) as conn:
        # FILE_COPY: much faster than PostgreSQL 15's default for tiny databases.
        conn.execute(f'CREATE DATABASE "{name}" STRATEGY = FILE_COPY')
    return f"{admin_url}/{name}"


def shared_admin_url(config: pytest.Config) -> str:
    """One server for the whole test session, however many test folders use it; stopped when
    pytest ends. Skips the calling test, with the reason, when no server can be started."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    if "url" not in _shared:
        stack = ExitStack()
        _shared["url"] = stack.enter_context(server())
        config.add_cleanup(stack.close)
        config.add_cleanup(_shared.clear)
    return _shared["url"]
