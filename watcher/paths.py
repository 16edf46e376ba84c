"""Where watcher keeps its files, following the XDG conventions (via platformdirs).

Every location can be overridden: by a CLI flag, or by the environment variable named here, so
tests and the demo run in a temporary directory without touching the user's home.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_APP = "watcher"


def config_dir() -> Path:
    """`$WATCHER_CONFIG_DIR`, else `~/.config/watcher`."""
    env = os.environ.get("WATCHER_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(_APP))


def data_dir() -> Path:
    """`$WATCHER_DATA_DIR`, else `~/.local/share/watcher`."""
    env = os.environ.get("WATCHER_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(_APP))


def rules_dir() -> Path:
    """The default rules directory: `<config>/rules`."""
    return config_dir() / "rules"


def default_db_url() -> str:
    """SQLite under the data dir unless `$WATCHER_DB` names another database URL."""
    env = os.environ.get("WATCHER_DB")
    if env:
        return env
    return f"sqlite:///{data_dir() / 'watcher.db'}"


def sim_home(kind: str) -> Path:
    """Default home of a simulator (`pbs` or `globus`): `<data>/sim/<kind>`."""
    return data_dir() / "sim" / kind
