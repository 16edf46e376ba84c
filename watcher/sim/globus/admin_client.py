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
        """Whether the emulator answers; False (not an AdminError) when it cannot be reached."""
        try:
            return bool(self._call("GET", "health").get("ok"))
        except AdminError:
            return False

    def status(self) -> dict[str, Any]:
        """`Emulator.status`: task counts, counters, faults, endpoints and bandwidth."""
        return dict(self._call("GET", "status"))

    def counters(self, client: str | None = None) -> dict[str, int]:
        """API requests per route (the admin routes are not counted); one client's if given."""
        query = f"?{urllib.parse.urlencode({'client': client})}" if client else ""
        return dict(self._call("GET", f"counters{query}"))

    def counters_by_client(self) -> dict[str, dict[str, int]]:
        """`Emulator.counters_by_client`: requests per route, split by OAuth client id."""
        return dict(self._call("GET", "counters/by-client"))

    def tasks(self) -> list[dict[str, Any]]:
        """Every task document, whoever owns it."""
        return list(self._call("GET", "tasks"))

    def task(self, task_id: str) -> dict[str, Any]:
        """One task document, whoever owns it; AdminError (404) when unknown."""
        return dict(self._call("GET", f"tasks/{task_id}"))

    def identity_id(self, user: str) -> str:
        """The identity id the emulator gives `user` (the same on every call)."""
        return str(self._call("GET", f"identities/{user}")["id"])

    def add_endpoint(self, path: str, endpoint_id: str | None = None,
                     display_name: str | None = None, **kind: Any) -> str:
        """`kind`: as `Emulator.add_endpoint` (entity_type, requires_consent, ...)."""
        return str(self._act("endpoints", path=str(path), endpoint_id=endpoint_id,
                             display_name=display_name,
                             **{k: v for k, v in kind.items() if v is not None}))

    def issue_tokens(self, user: str = "alice", lifetime: float | None = None,
                     **kwargs: Any) -> dict[str, Any]:
        """`Emulator.issue_tokens`: a login's token response for `user`."""
        return dict(self._act("tokens", user=user, lifetime=lifetime, **kwargs))

    def fail_task(self, task_id: str, code: str = "ENDPOINT_ERROR",
                  description: str = "Injected failure") -> None:
        """End the task FAILED with this fatal error (a finished task is left alone)."""
        self._act("fail-task", task_id=task_id, code=code, description=description)

    def pause_endpoint(self, endpoint_id: str) -> None:
        """Pause every task through the endpoint, as an admin pause rule does."""
        self._act("pause-endpoint", endpoint_id=endpoint_id)

    def resume_endpoint(self, endpoint_id: str) -> None:
        """Lift `pause_endpoint`: its tasks move again."""
        self._act("resume-endpoint", endpoint_id=endpoint_id)

    def expire_credentials(self, user: str, endpoint_id: str | None = None) -> None:
        """`Emulator.expire_credentials`: the user's tasks there go INACTIVE."""
        self._act("expire-credentials", user=user, endpoint_id=endpoint_id)

    def restore_credentials(self, user: str, endpoint_id: str | None = None) -> None:
        """Undo `expire_credentials` (for one endpoint, or all when None)."""
        self._act("restore-credentials", user=user, endpoint_id=endpoint_id)

    def set_quota(self, endpoint_id: str, nbytes: int | None) -> None:
        """Cap the bytes under the endpoint's root; None removes the cap."""
        self._act("quota", endpoint_id=endpoint_id, nbytes=nbytes)

    def revoke_refresh_tokens(self, user: str) -> int:
        """Revoke the user's refresh tokens, as a session logout does; returns how many."""
        return int(self._act("revoke-refresh-tokens", user=user))

    def expire_access_tokens(self, user: str | None = None) -> int:
        """Expire access tokens (the user's, or everyone's for None); returns how many."""
        return int(self._act("expire-access-tokens", user=user))

    def set_token_lifetime(self, seconds: float) -> None:
        """The lifetime in seconds of access tokens issued from now on."""
        self._act("token-lifetime", seconds=seconds)

    def set_bandwidth(self, bytes_per_second: float) -> None:
        """The bytes per second every task moves at from now on (must be positive)."""
        self._act("bandwidth", bytes_per_second=bytes_per_second)

    def flaky(self, status: int = 503, share: float = 1.0, count: int | None = None,
              retry_after: int | None = 0, service: str = "transfer") -> None:
        """`Emulator.flaky`: a share of `service`'s requests get `status` (count: how many)."""
        self._act("flaky", status=status, share=share, count=count, retry_after=retry_after,
                  service=service)

    def reset_faults(self) -> None:
        """Clear every fault: pauses, expired credentials, quotas, flakiness."""
        self._act("reset")

    def reset_counters(self, client: str | None = None) -> None:
        """Zero the request counters (for every client, or one)."""
        self._act("reset-counters", client=client)

    def remove_endpoint(self, endpoint_id: str) -> None:
        """`Emulator.remove_endpoint`: its unfinished tasks fail; AdminError when unknown."""
        self._act("remove-endpoint", endpoint_id=endpoint_id)
