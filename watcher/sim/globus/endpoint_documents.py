"""Endpoint and directory-listing documents, shaped like globus-sdk's canned payloads.

The endpoint document is per requesting user: `activated`/`expires_in` report whether that user's
credentials (consent) for the endpoint are still good, which is how an "endpoint inactive"
condition shows up now that GCSv4 activation is gone.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.sim.globus.endpoints import Endpoint


def endpoint_doc(endpoint: Endpoint, *, activated: bool, in_use: bool) -> dict[str, Any]:
    """GET /endpoint/{id}. `expires_in` -1 means "never expires"; 0 means expired."""
    return {
        "DATA_TYPE": "endpoint",
        "id": endpoint.id,
        "display_name": endpoint.display_name,
        "organization": "watcher emulator",
        "username": "emulator",
        "description": f"Emulated collection backed by {endpoint.path}",
        "entity_type": "GCSv5_mapped_collection",
        "public": False,
        "french_english_bilingual": False,
        "is_globus_connect": False,
        "globus_connect_setup_key": None,
        "gcp_connected": None,
        "gcp_paused": None,
        "s3_url": None,
        "s3_owner_activated": False,
        "host_endpoint_id": None,
        "host_path": None,
        "disable_verify": False,
        "disable_anonymous_writes": False,
        "force_verify": False,
        "force_encryption": False,
        "mfa_required": False,
        "myproxy_server": None,
        "myproxy_dn": None,
        "non_functional": False,
        "non_functional_endpoint_display_name": None,
        "non_functional_endpoint_id": None,
        "oauth_server": None,
        "default_directory": "/~/",
        "activated": activated,
        "expires_in": -1 if activated else 0,
        "expire_time": None if activated else "2000-01-01 00:00:00+00:00",
        "shareable": True,
        "acl_available": False,
        "acl_editable": False,
        "in_use": in_use,
        "DATA": [{
            "DATA_TYPE": "server", "hostname": "127.0.0.1", "uri": "gsiftp://127.0.0.1:2811",
            "port": 2811, "scheme": "gsiftp", "id": 1, "subject": None,
        }],
    }


def file_doc(path: Path) -> dict[str, Any]:
    """One entry of an `ls` listing (the same shape as operation_stat's answer)."""
    info = path.lstat()
    is_link = stat.S_ISLNK(info.st_mode)
    target = path.stat() if is_link and path.exists() else info
    return {
        "DATA_TYPE": "file",
        "name": path.name,
        "type": "dir" if stat.S_ISDIR(target.st_mode) else "file",
        "size": target.st_size,
        "permissions": f"{stat.S_IMODE(target.st_mode):04o}",
        "last_modified": _mtime(target.st_mtime),
        "user": _owner(target.st_uid),
        "group": _group(target.st_gid),
        "link_target": os.readlink(path) if is_link else None,
        "link_group": None,
        "link_last_modified": None,
        "link_size": None,
        "link_user": None,
    }


def ls_doc(endpoint: Endpoint, globus_path: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    absolute = globus_path if globus_path.endswith("/") else globus_path + "/"
    return {"DATA_TYPE": "file_list", "DATA": entries, "absolute_path": absolute,
            "endpoint": endpoint.id, "length": len(entries), "path": absolute,
            "rename_supported": True, "symlink_supported": False, "total": len(entries)}


def _mtime(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
