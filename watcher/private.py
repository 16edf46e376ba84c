"""Files and directories only their owner can use, whatever the umask.

On a shared login node a store or token file others can write is a way in: replace
`watcher.db` and the watcher runs your `qdel`s, replace the token store and it acts as you on
Globus. So what watcher creates is made private by its own mode (directories 0700, files 0600)
rather than by the umask, which a user's shell may leave at 000; and an existing store that
others can write, or that sits in a directory others can write (without the sticky bit that
keeps them from replacing it), is refused with the command that fixes it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


class NotPrivate(Exception):
    """An existing file or directory others can write; the message says how to fix it."""


def private_dir(path: Path) -> Path:
    """Create `path` and its missing parents, each 0700 (`os.makedirs` gives only the last
    the mode it is asked for); directories that exist are left as they are."""
    missing = []
    for parent in (path, *path.parents):
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(directory, DIR_MODE)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 unless it exists; an existing one is checked with
    `refuse_shared`."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        refuse_shared(path)
        return path
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def refuse_shared(path: Path) -> None:
    """Raise `NotPrivate` when others can write `path` or replace it in its directory."""
    mode = os.stat(path).st_mode
    if mode & _OTHERS_WRITE:
        raise NotPrivate(f"{path} can be written by other users (mode {stat.filemode(mode)}); "
                         f"make it yours alone with: chmod 600 {path}")
    parent = path.parent
    parent_mode = os.stat(parent).st_mode
    if parent_mode & _OTHERS_WRITE and not parent_mode & stat.S_ISVTX:
        raise NotPrivate(f"{path} is in a directory other users can write, so they can replace "
                         f"it (mode {stat.filemode(parent_mode)}); fix it with: chmod 700 {parent}")
