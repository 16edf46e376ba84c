"""Requests, responses and a tiny router keyed by route templates ("/v0.10/task/{task_id}").

The template doubles as the name a request is counted under, so counters read like the API.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from watcher.sim.globus.errors import bad_request

if TYPE_CHECKING:
    from watcher.sim.globus.emulator import Emulator


@dataclass
class Request:
    """An HTTP request as the emulator's routes see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    params: dict[str, str]

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query argument, or `default` when absent."""
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; 400 when it is not one ({} for an empty body)."""
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise bad_request("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise bad_request("the body must be a JSON object")
        return data

    def form(self) -> dict[str, str]:
        """The form-encoded body, the last value of each key."""
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}

    @property
    def bearer(self) -> str | None:
        """The bearer token of the Authorization header, or None."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    @property
    def basic(self) -> tuple[str, str] | None:
        """(client id, secret) from HTTP Basic auth, or None when absent or malformed."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        return unquote(user), unquote(secret)


@dataclass
class Response:
    """What a route answers: status, JSON body, headers."""

    status: int
    body: dict[str, Any] | list[Any] | str
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["Emulator", Request], Response]


@dataclass(frozen=True)
class Route:
    """A method and path template (`/v0.10/task/{task_id}`) with its handler."""

    method: str
    template: str
    service: str  # "transfer", "auth" or "admin": which faults may hit it
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Routes in registration order; `{name}` in a template matches one path segment."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.routes: list[Route] = []

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        """Decorator registering a handler; `{name}` in `template` matches one path segment."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        pattern = re.compile(f"^{regex}/?$")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, template, self.service, pattern, handler))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """The first route for the method and path, with its decoded `{name}` values."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None, {}

    @classmethod
    def merge(cls, *routers: Router) -> Router:
        """One router holding every route of `routers`, in that order."""
        merged = cls("mixed")
        for router in routers:
            merged.routes.extend(router.routes)
        return merged
