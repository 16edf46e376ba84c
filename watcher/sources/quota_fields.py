"""What a quota subject is: its attribute names and how a path names it. Pure, and apart from
the source (which runs commands), so checking rules does not import the command runner."""

from __future__ import annotations

import os

QUOTA_ATTRIBUTES = ("path", "kind", "used_bytes", "limit_bytes", "used_percent", "over_limit",
                    "files", "files_limit", "files_percent", "grace", "inaccurate")


def normalize_path(path: str) -> str:
    """`~/scratch/` and `/home/me/scratch` are one subject."""
    return os.path.normpath(os.path.expanduser(path))
