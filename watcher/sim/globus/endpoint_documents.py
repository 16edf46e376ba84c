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
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.sim.globus.endpoints import Endpoint

# The emulated Globus Connect Server v5 endpoint every GCSv5 collection belongs to.
GCS_ENDPOINT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "watcher-emulator-gcs-endpoint"))
_GCSV5 = ("GCSv5_endpoint", "GCSv5_mapped_collection", "GCSv5_guest_collection")
_GCP = ("GCP_mapped_collection", "GCP_guest_collection")


def endpoint_doc(endpoint: Endpoint, *, activated: bool, in_use: bool) -> dict[str, Any]:
    """GET /endpoint/{id}, shaped by `entity_type` as Transfer shapes it.

    The keys of globus-sdk's canned `get_endpoint` payload (a GCSv4 host) are in every
    document, plus those globus-cli reads: `owner_string`, `keywords`, `subscription_id`, ...
    (`endpoint show`), `high_assurance` (whether data_access applies) and, on GCSv5 types,
    `owner_id` (a collection's endpoint), `gcs_manager_url`. `expires_in` -1 means "never
    expires"; 0 means the user's credentials (consent) for it expired.
    """
    kind = endpoint.entity_type
    gcp = kind in _GCP
    doc = {
        "DATA_TYPE": "endpoint",
        "id": endpoint.id,
        "display_name": endpoint.display_name,
        "canonical_name": f"emulator#{endpoint.id[:8]}" if kind.startswith("GCSv4") else None,
        "organization": "watcher emulator",
        "department": None,
        "username": "emulator",
        "owner_string": "emulator@globusid.org",
        "owner_id": GCS_ENDPOINT_ID if kind in _GCSV5[1:] else None,
        "description": f"Emulated {kind} backed by {endpoint.path}",
        "keywords": None,
        "contact_email": None,
        "contact_info": None,
        "info_link": None,
        "entity_type": kind,
        "public": False,
        "french_english_bilingual": False,
        "is_globus_connect": gcp,
        "globus_connect_setup_key": None,
        "gcp_connected": True if gcp else None,
        "gcp_paused": False if gcp else None,
        "s3_url": None,
        "s3_owner_activated": False,
        "host_endpoint_id": endpoint.host_endpoint_id,
        "host_path": None,
        "disable_verify": False,
        "disable_anonymous_writes": False,
        "force_verify": False,
        "force_encryption": False,
        "mfa_required": False,
        "high_assurance": endpoint.high_assurance,
        "authentication_timeout_mins": endpoint.authentication_timeout_mins,
        "subscription_id": None,
        "local_user_info_available": kind == "GCSv5_mapped_collection",
        "gcs_version": "5.4.80" if kind in _GCSV5 else None,
        "gcs_manager_url": (f"https://{GCS_ENDPOINT_ID[:6]}.emulator.data.globus.org"
                            if kind in _GCSV5 else None),
        "myproxy_server": "myproxy.emulator.org" if kind == "GCSv4_host" else None,
        "myproxy_dn": None,
        "non_functional": kind == "GCSv5_endpoint",
        "non_functional_endpoint_display_name": None,
        "non_functional_endpoint_id": None,
        "oauth_server": None,
        "default_directory": "/~/",
        "activated": activated,
        "expires_in": -1 if activated else 0,
        "expire_time": None if activated else "2000-01-01 00:00:00+00:00",
        "shareable": kind in ("GCSv5_mapped_collection", "GCP_mapped_collection",
                              "GCSv4_host"),
        "acl_available": kind in ("GCSv5_guest_collection", "GCP_guest_collection",
                                  "GCSv4_share"),
        "acl_editable": False,
        "in_use": in_use,
        "DATA": [{
            "DATA_TYPE": "server", "hostname": "127.0.0.1", "uri": "gsiftp://127.0.0.1:2811",
            "port": 2811, "scheme": "gsiftp", "id": 1, "subject": None,
        }],
    }
    return doc


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
    """The `file_list` document of an ls of `globus_path`; its path always ends in "/"."""
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
