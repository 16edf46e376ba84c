"""Transfer v0.10 routes: submission ids, submit, tasks, events, cancel, endpoints, ls/stat.

Every route needs a live Transfer access token; an unknown, revoked or expired one gets 401
`AuthenticationFailed`, which makes globus-sdk's renewing authorizers refresh and retry.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from watcher.sim.globus.auth import Token
from watcher.sim.globus.documents import event_doc, list_doc, submit_result, task_doc
from watcher.sim.globus.emulator import Emulator
from watcher.sim.globus.endpoint_documents import endpoint_doc, file_doc, ls_doc
from watcher.sim.globus.endpoints import Endpoint
from watcher.sim.globus.errors import ApiError, bad_request, consent_required
from watcher.sim.globus.filters import (
    QueryError,
    matches,
    order,
    page_bounds,
    parse_filter,
    select_fields,
)
from watcher.sim.globus.paths import local_path
from watcher.sim.globus.routing import Request, Response, Router
from watcher.sim.globus.scopes import TRANSFER_RS

ROUTES = Router("transfer")


def caller(emu: Emulator, req: Request) -> str:
    """The identity id behind the request's bearer token."""
    return caller_token(emu, req).identity_id


def caller_token(emu: Emulator, req: Request) -> Token:
    """The caller's live Transfer token; 401 AuthenticationFailed otherwise."""
    token = emu.tokens.valid(req.bearer or "", TRANSFER_RS)
    if token is None:
        raise ApiError(401, "AuthenticationFailed", "Token is not active")
    return token


def check_consents(emu: Emulator, token: Token, endpoint_ids: list[str]) -> None:
    """ConsentRequired naming every collection the caller lacks data_access consent for;
    a GCSv5 endpoint is no collection, so nothing can move to or from it."""
    endpoints = [e for e in map(emu.endpoints.get, dict.fromkeys(endpoint_ids)) if e]
    for endpoint in endpoints:
        if not endpoint.is_collection:
            raise bad_request(f"'{endpoint.id}' is a Globus Connect Server v5 endpoint, not a "
                              "collection: use one of its collections",
                              "ClientError.BadRequest.NotACollection")
    missing = [e.id for e in endpoints if emu.consent_missing(token, e)]
    if missing:
        raise consent_required(missing)


@ROUTES.route("GET", "/v0.10/submission_id")
def submission_id(emu: Emulator, req: Request) -> Response:
    """A fresh submission id (a UUID) for an idempotent submit."""
    with emu.lock:
        caller(emu, req)
    return Response(200, {"value": str(uuid.uuid4())})


@ROUTES.route("POST", "/v0.10/transfer")
def submit(emu: Emulator, req: Request) -> Response:
    """Submit a transfer; a repeated submission_id answers the first task again."""
    doc = req.json()
    with emu.mutate():
        token = caller_token(emu, req)
        if str(doc.get("submission_id") or "") not in emu.transfers.submissions:
            check_consents(emu, token, [str(doc.get("source_endpoint") or ""),
                                        str(doc.get("destination_endpoint") or "")])
        task, duplicate = emu.transfers.submit(token.identity_id, doc)
        return Response(200 if duplicate else 202, submit_result(task, duplicate))


@ROUTES.route("GET", "/v0.10/task/{task_id}")
def get_task(emu: Emulator, req: Request) -> Response:
    """The caller's task; 404 when unknown, 403 when another identity owns it."""
    with emu.lock:
        task = emu.transfers.owned(caller(emu, req), req.params["task_id"])
        return Response(200, select_fields(task_doc(task, emu.endpoints.display_name,
                                                    emu.clock()), req.arg("fields")))


@ROUTES.route("GET", "/v0.10/task_list")
def task_list(emu: Emulator, req: Request) -> Response:
    """The caller's tasks, filtered, ordered and paged as Transfer does."""
    try:
        limit, offset = page_bounds(req.arg("limit"), req.arg("offset"))
        clauses = parse_filter(req.arg("filter"))
    except QueryError as exc:
        raise bad_request(str(exc)) from exc
    with emu.lock:
        owner = caller(emu, req)
        docs = [task_doc(t, emu.endpoints.display_name, emu.clock())
                for t in emu.transfers.of_owner(owner)]
    try:
        docs = order([d for d in docs if matches(d, clauses)], req.arg("orderby"))
    except QueryError as exc:
        raise bad_request(str(exc)) from exc
    page = [select_fields(d, req.arg("fields")) for d in docs[offset:offset + limit]]
    return Response(200, list_doc("task_list", page, limit=limit, offset=offset,
                                  total=len(docs)))


@ROUTES.route("GET", "/v0.10/task/{task_id}/event_list")
def event_list(emu: Emulator, req: Request) -> Response:
    """A task's events newest first; only `is_error` may be filtered on."""
    try:
        limit, offset = page_bounds(req.arg("limit"), req.arg("offset"))
        clauses = parse_filter(req.arg("filter"), allowed=("is_error",))
    except QueryError as exc:
        raise bad_request(str(exc)) from exc
    with emu.lock:
        task = emu.transfers.owned(caller(emu, req), req.params["task_id"])
        events = [event_doc(e) for e in reversed(task.events)]
    events = [e for e in events if matches(e, clauses)]
    return Response(200, list_doc("event_list", events[offset:offset + limit], limit=limit,
                                  offset=offset, total=len(events)))


@ROUTES.route("POST", "/v0.10/task/{task_id}/cancel")
def cancel(emu: Emulator, req: Request) -> Response:
    """Cancel the caller's task; an ended task answers TaskComplete."""
    task_id = req.params["task_id"]
    with emu.mutate():
        code, message = emu.transfers.cancel(emu.transfers.owned(caller(emu, req), task_id))
    return Response(200, {"DATA_TYPE": "result", "code": code, "message": message,
                          "resource": f"/task/{task_id}/cancel",
                          "request_id": uuid.uuid4().hex[:9]})


@ROUTES.route("GET", "/v0.10/task/{task_id}/pause_info")
def pause_info(emu: Emulator, req: Request) -> Response:
    """The pause rules holding the task: one per paused endpoint it uses."""
    with emu.lock:
        task = emu.transfers.owned(caller(emu, req), req.params["task_id"])
        rules = [{"DATA_TYPE": "pause_rule_limited", "id": f"emulator-{ep}", "endpoint_id": ep,
                  "message": "Paused by the emulator", "modify": True, "read_only": False,
                  "start_time": None, "identity_id": None, "delete": True, "rename": True,
                  "mkdir": True, "ls": False, "write": True, "read": True}
                 for ep in task.endpoints if ep in emu.faults.paused]
    return Response(200, {"DATA_TYPE": "pause_info_limited", "pause_rules": rules,
                          "source_pause_message": None, "source_pause_message_share": None,
                          "destination_pause_message": None,
                          "destination_pause_message_share": None})


@ROUTES.route("GET", "/v0.10/endpoint/{endpoint_id}")
def get_endpoint(emu: Emulator, req: Request) -> Response:
    """The endpoint document, `activated` false while the caller's credentials are expired."""
    with emu.lock:
        owner = caller(emu, req)
        endpoint = _endpoint(emu, req.params["endpoint_id"])
        in_use = any(not t.terminal and endpoint.id in t.endpoints
                     for t in emu.transfers.of_owner(owner))
        activated = not emu.faults.credentials_expired(owner, endpoint.id)
        return Response(200, endpoint_doc(endpoint, activated=activated, in_use=in_use))


@ROUTES.route("GET", "/v0.10/operation/endpoint/{endpoint_id}/ls")
def operation_ls(emu: Emulator, req: Request) -> Response:
    """List a directory; 404 when missing, 400 NotADirectory for a file."""
    endpoint, path, globus_path = _operation_target(emu, req)
    if not path.exists():
        raise ApiError(404, "ClientError.NotFound", f"Directory '{globus_path}' not found")
    if not path.is_dir():
        raise ApiError(400, "ClientError.BadRequest.NotADirectory",
                       f"'{globus_path}' is not a directory")
    show_hidden = req.arg("show_hidden", "1") not in ("0", "false", "False")
    entries = [file_doc(child) for child in sorted(path.iterdir())
               if show_hidden or not child.name.startswith(".")]
    offset, limit = int(req.arg("offset") or 0), int(req.arg("limit") or 100000)
    return Response(200, ls_doc(endpoint, globus_path, entries[offset:offset + limit]))


@ROUTES.route("GET", "/v0.10/operation/endpoint/{endpoint_id}/stat")
def operation_stat(emu: Emulator, req: Request) -> Response:
    """Stat a path; 404 NotFound when missing."""
    _endpoint_obj, path, globus_path = _operation_target(emu, req)
    if not path.exists():
        raise ApiError(404, "NotFound", f"Path not found: '{globus_path}'")
    return Response(200, file_doc(path))


def _operation_target(emu: Emulator, req: Request) -> tuple[Endpoint, Path, str]:
    globus_path = req.arg("path") or "/~/"
    with emu.lock:
        token = caller_token(emu, req)
        endpoint = _endpoint(emu, req.params["endpoint_id"])
        check_consents(emu, token, [endpoint.id])
    return endpoint, local_path(endpoint.root, globus_path), globus_path


def _endpoint(emu: Emulator, endpoint_id: str) -> Endpoint:
    endpoint = emu.endpoints.get(endpoint_id)
    if endpoint is None:
        raise ApiError(404, "EndpointNotFound", f"No such endpoint: '{endpoint_id}'")
    return endpoint
