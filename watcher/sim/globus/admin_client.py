"""The admin API of a running emulator, over HTTP, with the same method names as `Emulator`.

Used by `watcher sim globus ...` against the daemon, and by anyone driving an emulator that
runs in another process. Standard library only (urllib), so it works wherever watcher does.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class AdminError(Exception):
    """The emulator refused an admin call, or could not be reached."""


class AdminClient:
    """Calls `/_emulator/...` on the emulator at `url` (e.g. "http://127.0.0.1:8123/")."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("message", exc.reason)
            raise AdminError(f"{method} /_emulator/{path}: {exc.code} {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise AdminError(f"cannot reach the emulator at {self.url}: {exc}") from exc

    def _act(self, action: str, **kwargs: Any) -> Any:
        return self._call("POST", action, kwargs)["result"]

    def health(self) -> bool:
        try:
            return bool(self._call("GET", "health").get("ok"))
        except AdminError:
            return False

    def status(self) -> dict[str, Any]:
        return dict(self._call("GET", "status"))

    def counters(self, client: str | None = None) -> dict[str, int]:
        """API requests per route (the admin routes are not counted); one client's if given."""
        query = f"?{urllib.parse.urlencode({'client': client})}" if client else ""
        return dict(self._call("GET", f"counters{query}"))

    def counters_by_client(self) -> dict[str, dict[str, int]]:
        return dict(self._call("GET", "counters/by-client"))

    def tasks(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "tasks"))

    def task(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"tasks/{task_id}"))

    def identity_id(self, user: str) -> str:
        return str(self._call("GET", f"identities/{user}")["id"])

    def add_endpoint(self, path: str, endpoint_id: str | None = None,
                     display_name: str | None = None, **kind: Any) -> str:
        """`kind`: as `Emulator.add_endpoint` (entity_type, requires_consent, ...)."""
        return str(self._act("endpoints", path=str(path), endpoint_id=endpoint_id,
                             display_name=display_name,
                             **{k: v for k, v in kind.items() if v is not None}))

    def issue_tokens(self, user: str = "alice", lifetime: float | None = None,
                     **kwargs: Any) -> dict[str, Any]:
        return dict(self._act("tokens", user=user, lifetime=lifetime, **kwargs))

    def fail_task(self, task_id: str, code: str = "ENDPOINT_ERROR",
                  description: str = "Injected failure") -> None:
        self._act("fail-task", task_id=task_id, code=code, description=description)

    def pause_endpoint(self, endpoint_id: str) -> None:
        self._act("pause-endpoint", endpoint_id=endpoint_id)

    def resume_endpoint(self, endpoint_id: str) -> None:
        self._act("resume-endpoint", endpoint_id=endpoint_id)

    def expire_credentials(self, user: str, endpoint_id: str | None = None) -> None:
        self._act("expire-credentials", user=user, endpoint_id=endpoint_id)

    def restore_credentials(self, user: str, endpoint_id: str | None = None) -> None:
        self._act("restore-credentials", user=user, endpoint_id=endpoint_id)

    def set_quota(self, endpoint_id: str, nbytes: int | None) -> None:
        self._act("quota", endpoint_id=endpoint_id, nbytes=nbytes)

    def revoke_refresh_tokens(self, user: str) -> int:
        return int(self._act("revoke-refresh-tokens", user=user))

    def expire_access_tokens(self, user: str | None = None) -> int:
        return int(self._act("expire-access-tokens", user=user))

    def set_token_lifetime(self, seconds: float) -> None:
        self._act("token-lifetime", seconds=seconds)

    def set_bandwidth(self, bytes_per_second: float) -> None:
        self._act("bandwidth", bytes_per_second=bytes_per_second)

    def flaky(self, status: int = 503, share: float = 1.0, count: int | None = None,
              retry_after: int | None = 0, service: str = "transfer") -> None:
        self._act("flaky", status=status, share=share, count=count, retry_after=retry_after,
                  service=service)

    def reset_faults(self) -> None:
        self._act("reset")

    def reset_counters(self, client: str | None = None) -> None:
        self._act("reset-counters", client=client)

    def remove_endpoint(self, endpoint_id: str) -> None:
        self._act("remove-endpoint", endpoint_id=endpoint_id)
