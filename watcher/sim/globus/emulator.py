"""The whole emulated service in one object: state, its lock, the engine thread, snapshots, and
the Python fault API (the admin HTTP routes call the same methods).

State lives in memory and is written to `<home>/state.json` about once a second and at `stop`,
so a restarted emulator keeps its tasks, submission ids and refresh tokens.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from watcher.sim.globus.auth import Token, TokenStore
from watcher.sim.globus.documents import task_doc
from watcher.sim.globus.endpoints import Endpoint, EndpointRegistry, write_json_atomic
from watcher.sim.globus.faults import ANY_ENDPOINT, Faults, Flaky
from watcher.sim.globus.model import FAILED, Task
from watcher.sim.globus.scopes import TRANSFER_ALL, consented
from watcher.sim.globus.transfers import Transfers

DEFAULT_BANDWIDTH = 1e9  # bytes per second per running task
ANONYMOUS = "anonymous"  # requests without a credential the emulator knows
# The native app client the emulator issues user tokens to (refresh with this client id).
NATIVE_CLIENT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "watcher-emulator-native-client"))
_SNAPSHOT_VERSION = 1


class Emulator:
    """The emulated Transfer + Auth state. Every public method is thread-safe."""

    def __init__(self, home: Path | None = None, *, bandwidth: float = DEFAULT_BANDWIDTH,
                 clock: Callable[[], float] = time.time, tick: float = 0.05) -> None:
        self.home = home
        self.lock = threading.RLock()
        self.clock = clock
        self.tokens = TokenStore(clock)
        self.faults = Faults()
        self.endpoints = EndpointRegistry(home / "endpoints.json" if home else None)
        self.transfers = Transfers(self.endpoints, self.faults, clock, bandwidth)
        self.route_counts: dict[str, Counter[str]] = {}  # client id -> route -> requests
        self._tick = tick
        self._dirty = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if home is not None:
            home.mkdir(parents=True, exist_ok=True)
            self._load()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread that moves bytes and saves snapshots."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="globus-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the engine thread and write a last snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.save()

    def _run(self) -> None:
        last = last_save = time.monotonic()
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            with self.lock:
                if self.transfers.tick(now - last):
                    self._dirty = True
            last = now
            if now - last_save >= 1.0:
                self.save()
                last_save = now

    @contextlib.contextmanager
    def mutate(self) -> Iterator[None]:
        """Hold the lock for a change worth a snapshot."""
        with self.lock:
            self._dirty = True
            yield

    def save(self) -> None:
        """Write the snapshot under `home` if anything changed since the last one."""
        if self.home is None:
            return
        with self.lock:
            if not self._dirty:
                return
            data = {"version": _SNAPSHOT_VERSION,
                    "tasks": [t.to_dict() for t in self.transfers.tasks.values()],
                    "submissions": self.transfers.submissions,
                    "auth": self.tokens.to_dict(), "faults": self.faults.to_dict()}
            self._dirty = any(not t.terminal for t in self.transfers.tasks.values())
        write_json_atomic(self.home / "state.json", data)

    def _load(self) -> None:
        assert self.home is not None
        snapshot = self.home / "state.json"
        if not snapshot.exists():
            return
        data = json.loads(snapshot.read_text())
        self.transfers.tasks = {t["task_id"]: Task.from_dict(t) for t in data.get("tasks", [])}
        self.transfers.submissions = dict(data.get("submissions", {}))
        self.tokens.load(data.get("auth", {}))
        self.faults.replace(Faults.from_dict(data.get("faults", {})))

    # ---- counters --------------------------------------------------------------------------
    def count(self, route: str, client: str = ANONYMOUS) -> None:
        """One API request of `client` (the OAuth client behind its token, or ANONYMOUS)."""
        with self.lock:
            self.route_counts.setdefault(client, Counter())[route] += 1

    def counters(self, client: str | None = None) -> dict[str, int]:
        """Requests per route ("GET /v0.10/task/{task_id}"), plus "injected <status>" totals;
        one client's when `client` is given. The emulator's own /_emulator routes never count:
        they are the test's, not the API's."""
        with self.lock:
            if client is not None:
                return dict(self.route_counts.get(client, {}))
            total: Counter[str] = Counter()
            for counts in self.route_counts.values():
                total.update(counts)
            return dict(total)

    def counters_by_client(self) -> dict[str, dict[str, int]]:
        """Requests per route, split by client id."""
        with self.lock:
            return {client: dict(c) for client, c in self.route_counts.items()}

    def reset_counters(self, client: str | None = None) -> None:
        """Start counting from zero (for every client, or one)."""
        with self.lock:
            if client is None:
                self.route_counts.clear()
            else:
                self.route_counts.pop(client, None)

    def client_of(self, authorization: str | None, form_client: str | None) -> str:
        """Who sent a request: the client a bearer token was issued to, the Basic-auth client,
        the form's client_id (a native app's token call), else ANONYMOUS."""
        kind, _, credential = (authorization or "").partition(" ")
        if kind.lower() == "bearer":
            with self.lock:
                token = self.tokens.tokens.get(credential.strip())
            if token is not None:
                return token.client_id
        elif kind.lower() == "basic":
            try:
                return base64.b64decode(credential).decode().partition(":")[0] or ANONYMOUS
            except (ValueError, UnicodeDecodeError):
                return ANONYMOUS
        return form_client or ANONYMOUS

    # ---- setup -----------------------------------------------------------------------------
    def add_endpoint(self, path: Path | str, endpoint_id: str | None = None,
                     display_name: str | None = None, **kind: Any) -> str:
        """Add an endpoint or collection; `kind`: `entity_type` (`mapped`, `guest`,
        `gcsv5-endpoint`, `gcp`, `gcsv4`, ... or Transfer's name), `requires_consent`
        (a mapped collection refusing users without its data_access consent),
        `high_assurance`, `host_endpoint_id`, `authentication_timeout_mins`."""
        with self.mutate():
            return self.endpoints.add(path, endpoint_id, display_name, **kind).id

    def consent_missing(self, token: Token, endpoint: Endpoint) -> bool:
        """Whether the caller lacks consent for `endpoint`: expired by a fault, or a
        collection demanding data_access that the token's scope does not carry."""
        if self.faults.credentials_expired(token.identity_id, endpoint.id):
            return True
        return endpoint.requires_consent and endpoint.id not in consented(token.scope)

    def remove_endpoint(self, endpoint_id: str) -> None:
        """Delete an endpoint (KeyError if unknown). Its unfinished tasks fail, as tasks on a
        deleted collection cannot go on; its directory and finished tasks stay."""
        with self.mutate():
            if not self.endpoints.remove(endpoint_id):
                raise KeyError(f"no endpoint {endpoint_id}")
            for task in self.transfers.tasks.values():
                touches = endpoint_id in (task.source_endpoint_id, task.destination_endpoint_id)
                if touches and not task.terminal:
                    task.faults += 1
                    self.transfers.finish(task, FAILED, {
                        "code": "ENDPOINT_ERROR", "description": "Endpoint was deleted"})

    def issue_tokens(self, user: str = "alice", lifetime: float | None = None,
                     scopes: str = TRANSFER_ALL, client_id: str = NATIVE_CLIENT_ID
                     ) -> dict[str, Any]:
        """Tokens as a login would give them: refresh them with `NativeAppAuthClient(client_id)`."""
        with self.mutate():
            identity = self.tokens.identity(user)
            answer = self.tokens.issue(identity["id"], client_id, scopes, refresh=True,
                                       lifetime=lifetime)
            expires_at = int(self.clock() + answer["expires_in"])
            return {**answer, "expires_at_seconds": expires_at, "client_id": client_id,
                    "identity_id": identity["id"]}

    def identity_id(self, user: str) -> str:
        """The identity id the emulator gives `user` (the same on every call)."""
        with self.lock:
            return str(self.tokens.find_identity(user)["id"])

    # ---- faults ----------------------------------------------------------------------------
    def fail_task(self, task_id: str, code: str = "ENDPOINT_ERROR",
                  description: str = "Injected failure") -> None:
        """End the task FAILED with this fatal error (a finished task is left alone)."""
        with self.mutate():
            task = self._task(task_id)
            if not task.terminal:
                task.faults += 1
                self.transfers.finish(task, FAILED, {"code": code, "description": description})

    def pause_endpoint(self, endpoint_id: str) -> None:
        """Pause every task through the endpoint, as an admin pause rule does."""
        with self.mutate():
            self.faults.paused.add(endpoint_id)
            self.transfers.apply_faults()

    def resume_endpoint(self, endpoint_id: str) -> None:
        """Lift `pause_endpoint`: its tasks move again."""
        with self.mutate():
            self.faults.paused.discard(endpoint_id)
            self.transfers.apply_faults()

    def expire_credentials(self, user: str, endpoint_id: str | None = None) -> None:
        """The user's consent for one endpoint (or all) is gone: tasks go INACTIVE."""
        with self.mutate():
            self.faults.expired.add((self.identity_id(user), endpoint_id or ANY_ENDPOINT))
            self.transfers.apply_faults()

    def restore_credentials(self, user: str, endpoint_id: str | None = None) -> None:
        """Undo `expire_credentials` (for one endpoint, or all when None)."""
        with self.mutate():
            self.faults.restore(self.identity_id(user), endpoint_id)
            self.transfers.apply_faults()

    def set_quota(self, endpoint_id: str, nbytes: int | None) -> None:
        """Cap the bytes stored under an endpoint's root (None removes the cap)."""
        with self.mutate():
            if nbytes is None:
                self.faults.quotas.pop(endpoint_id, None)
            else:
                self.faults.quotas[endpoint_id] = int(nbytes)
            self.transfers.quota.forget(endpoint_id)

    def revoke_refresh_tokens(self, user: str) -> int:
        """Revoke the user's refresh tokens, as a session logout does; returns how many."""
        with self.mutate():
            return self.tokens.revoke_all(self.identity_id(user), "refresh")

    def expire_access_tokens(self, user: str | None = None) -> int:
        """Expire access tokens (the user's, or everyone's for None); returns how many."""
        with self.mutate():
            return self.tokens.revoke_all(self.identity_id(user) if user else None, "access")

    def set_token_lifetime(self, seconds: float) -> None:
        """The lifetime in seconds of access tokens issued from now on."""
        with self.mutate():
            self.tokens.access_lifetime = float(seconds)

    def set_bandwidth(self, bytes_per_second: float) -> None:
        """The bytes per second every task moves at; ValueError unless positive."""
        if bytes_per_second <= 0:
            raise ValueError("bandwidth must be positive")
        with self.lock:
            self.transfers.bandwidth = float(bytes_per_second)

    def flaky(self, status: int = 503, share: float = 1.0, count: int | None = None,
              retry_after: int | None = 0, service: str = "transfer") -> None:
        """Answer a share of requests with `status` and a Retry-After header."""
        rule = Flaky(status, share, count, retry_after, service)
        with self.mutate():
            self.faults.flaky = rule

    def reset_faults(self) -> None:
        """Clear every fault: pauses, expired credentials, quotas, flakiness."""
        with self.mutate():
            self.faults.replace(Faults())

    # ---- inspection ------------------------------------------------------------------------
    def task(self, task_id: str) -> dict[str, Any]:
        """The task document, whoever owns it."""
        with self.lock:
            return task_doc(self._task(task_id), self.endpoints.display_name, self.clock())

    def tasks(self) -> list[dict[str, Any]]:
        """Every task document, whoever owns it."""
        with self.lock:
            return [task_doc(t, self.endpoints.display_name, self.clock())
                    for t in self.transfers.tasks.values()]

    def status(self) -> dict[str, Any]:
        """Task counts by status, counters, faults, endpoints, bandwidth (`sim globus status`)."""
        with self.lock:
            by_status = Counter(t.status for t in self.transfers.tasks.values())
            return {"tasks": dict(by_status), "counters": self.counters(),
                    "counters_by_client": self.counters_by_client(),
                    "faults": self.faults.to_dict(),
                    "endpoints": [vars(e) for e in self.endpoints.all()],
                    "bandwidth": self.transfers.bandwidth,
                    "token_lifetime": self.tokens.access_lifetime}

    def _task(self, task_id: str) -> Task:
        task = self.transfers.tasks.get(task_id)
        if task is None:
            raise KeyError(f"no task {task_id}")
        return task
