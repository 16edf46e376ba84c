"""Globus paths on an emulated endpoint, and the expansion of transfer items into file copies.

An endpoint's root directory is both `/` and the home directory `~`: `/~/a`, `~/a` and `/a` all
name `<root>/a`. `..` stops at the root, as it does at a Unix `/`, so a transfer can never touch
files outside the directories the emulator was given.
"""

from __future__ import annotations

import filecmp
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from watcher.sim.globus.model import FileItem


class PathError(Exception):
    """A path or item the emulator cannot serve; `code` is the Transfer error category."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def local_path(root: Path, globus_path: str) -> Path:
    """The local file a Globus path names on an endpoint rooted at `root`."""
    path = globus_path.strip() or "/"
    for home in ("/~/", "~/"):
        if path.startswith(home):
            path = "/" + path[len(home):]
    if path in ("~", "/~"):
        path = "/"
    normal = posixpath.normpath("/" + path.lstrip("/"))
    return root.joinpath(*[part for part in normal.split("/") if part])


@dataclass
class Plan:
    """What one transfer item expands to: files to copy, directories to create, files skipped."""

    files: list[FileItem] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)
    skipped: int = 0


def plan_item(src: Path, dst: Path, recursive: bool | None, sync_level: int | None,
              preserve_mtime: bool, plan: Plan) -> None:
    """Expand one item into `plan`. `recursive=None` (the CLI's default) follows the source."""
    if not src.exists():
        raise PathError("FILE_NOT_FOUND", f"No such file or directory: {src.name}")
    if recursive is None:
        recursive = src.is_dir()
    if recursive and not src.is_dir():
        raise PathError("NOT_A_DIRECTORY", f"recursive transfer of a file: {src.name}")
    if not recursive and src.is_dir():
        raise PathError("IS_A_DIRECTORY", f"non-recursive transfer of a directory: {src.name}")
    if not recursive:
        _plan_file(src, dst, sync_level, preserve_mtime, plan)
        return
    plan.directories.append(dst)
    for child in sorted(src.rglob("*")):
        target = dst / child.relative_to(src)
        if child.is_dir():
            plan.directories.append(target)
        elif child.is_file():
            _plan_file(child, target, sync_level, preserve_mtime, plan)


def _plan_file(src: Path, dst: Path, sync_level: int | None, preserve_mtime: bool,
               plan: Plan) -> None:
    info = src.stat()
    if sync_level is not None and dst.is_file() and _in_sync(src, dst, sync_level):
        plan.skipped += 1
        return
    plan.files.append(FileItem(str(src), str(dst), info.st_size,
                               mtime=info.st_mtime if preserve_mtime else None))


def _in_sync(src: Path, dst: Path, level: int) -> bool:
    """Transfer's sync levels: 0 exists, 1 same size, 2 destination not older, 3 same bytes."""
    if level == 0:
        return True
    s, d = src.stat(), dst.stat()
    if level == 1:
        return s.st_size == d.st_size
    if level == 2:
        return d.st_mtime >= s.st_mtime
    return filecmp.cmp(src, dst, shallow=False)
