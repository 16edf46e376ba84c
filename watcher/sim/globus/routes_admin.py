"""Admin routes under `/_emulator/`: the Python fault API of `Emulator`, over HTTP.

No authentication: the server binds 127.0.0.1 and exists for tests and demos. Each POST takes a
JSON object whose keys are the keyword arguments of the `Emulator` method of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watcher.sim.globus.emulator import Emulator
from watcher.sim.globus.errors import ApiError, bad_request
from watcher.sim.globus.routing import Request, Response, Router

ROUTES = Router("admin")

# route name -> (Emulator method, required keys, optional keys)
_ACTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "endpoints": ("add_endpoint", ("path",), ("endpoint_id", "display_name", "entity_type",
                                              "requires_consent", "high_assurance",
                                              "host_endpoint_id",
                                              "authentication_timeout_mins")),
    "tokens": ("issue_tokens", (), ("user", "lifetime", "scopes", "client_id")),
    "fail-task": ("fail_task", ("task_id",), ("code", "description")),
    "pause-endpoint": ("pause_endpoint", ("endpoint_id",), ()),
    "resume-endpoint": ("resume_endpoint", ("endpoint_id",), ()),
    "expire-credentials": ("expire_credentials", ("user",), ("endpoint_id",)),
    "restore-credentials": ("restore_credentials", ("user",), ("endpoint_id",)),
    "quota": ("set_quota", ("endpoint_id", "nbytes"), ()),
    "revoke-refresh-tokens": ("revoke_refresh_tokens", ("user",), ()),
    "expire-access-tokens": ("expire_access_tokens", (), ("user",)),
    "token-lifetime": ("set_token_lifetime", ("seconds",), ()),
    "bandwidth": ("set_bandwidth", ("bytes_per_second",), ()),
    "flaky": ("flaky", (), ("status", "share", "count", "retry_after", "service")),
    "reset": ("reset_faults", (), ()),
    "reset-counters": ("reset_counters", (), ("client",)),
    "remove-endpoint": ("remove_endpoint", ("endpoint_id",), ()),
}


@ROUTES.route("GET", "/_emulator/health")
def health(emu: Emulator, req: Request) -> Response:
    """Answers without a token, so a starting daemon can be polled."""
    return Response(200, {"ok": True})


@ROUTES.route("GET", "/_emulator/status")
def status(emu: Emulator, req: Request) -> Response:
    """Task counts, counters, faults and endpoints (`Emulator.status`)."""
    return Response(200, emu.status())


@ROUTES.route("GET", "/_emulator/counters")
def counters(emu: Emulator, req: Request) -> Response:
    """All API requests per route; `?client=<id>` for one client's."""
    client = (req.query.get("client") or [None])[0]
    return Response(200, emu.counters(client))


@ROUTES.route("GET", "/_emulator/counters/by-client")
def counters_by_client(emu: Emulator, req: Request) -> Response:
    """Requests per route, split by OAuth client id."""
    return Response(200, emu.counters_by_client())


@ROUTES.route("GET", "/_emulator/tasks")
def tasks(emu: Emulator, req: Request) -> Response:
    """Every task document, whoever owns it."""
    return Response(200, emu.tasks())


@ROUTES.route("GET", "/_emulator/tasks/{task_id}")
def task(emu: Emulator, req: Request) -> Response:
    """One task document, whoever owns it; 404 TaskNotFound when unknown."""
    try:
        return Response(200, emu.task(req.params["task_id"]))
    except KeyError as exc:
        raise ApiError(404, "TaskNotFound", str(exc)) from exc


@ROUTES.route("GET", "/_emulator/identities/{user}")
def identity(emu: Emulator, req: Request) -> Response:
    """The identity id the emulator gives a user name."""
    return Response(200, {"id": emu.identity_id(req.params["user"])})


@ROUTES.route("POST", "/_emulator/{action}")
def action(emu: Emulator, req: Request) -> Response:
    """Call the Emulator method `_ACTIONS` maps `action` to, with the JSON body's arguments.
    A missing or unknown argument is 400, an unknown name 404.
    """
    name = req.params["action"]
    if name not in _ACTIONS:
        raise ApiError(404, "ClientError.NotFound", f"no admin action {name!r}")
    method, required, optional = _ACTIONS[name]
    body = req.json()
    missing = [key for key in required if key not in body]
    unknown = sorted(set(body) - set(required) - set(optional))
    if missing or unknown:
        raise bad_request(f"missing {missing}, unknown {unknown}")
    func: Callable[..., Any] = getattr(emu, method)
    try:
        result = func(**body)
    except KeyError as exc:
        raise ApiError(404, "ClientError.NotFound", str(exc)) from exc
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return Response(200, {"result": result})
