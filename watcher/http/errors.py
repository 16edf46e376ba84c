"""Errors as JSON with a stable code: `{"error": {"code": ..., "message": ..., ...}}`.

`code` is what a client branches on (`not_found`, `invalid_request`, `invalid_spec`,
`unauthorized`, ...); `message` is the CLI's own text for the same failure. Every error the
framework raises (a 404 route, a 405, a body that is not JSON or has an unknown field) is
turned into this shape too, so a client never has to parse HTML or FastAPI's `detail`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from watcher.lang.errors import did_you_mean

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal with its HTTP status, code and message (`extra` joins the error object)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def dumps(data: Any) -> bytes:
    """JSON as the CLI's `--json` writes it: times in ISO 8601, text not escaped."""
    return json.dumps(data, default=_iso, ensure_ascii=False).encode()


class JsonResponse(Response):
    """A JSON response serialised by `dumps`."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """JSON as the CLI's `--json` writes it (see `dumps`), not Starlette's."""
        return dumps(content)


def error_response(status: int, code: str, message: str, *,
                   headers: dict[str, str] | None = None, **extra: Any) -> JsonResponse:
    """A JSON body `{"error": {"code", "message", ...extra}}`, the API's one error shape."""
    return JsonResponse({"error": {"code": code, "message": message, **extra}},
                        status_code=status, headers=headers)


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


def install(app: FastAPI) -> None:
    """Route every error through `error_response`."""

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        errors = [describe_problem(err) for err in exc.errors()]
        malformed = any(err.get("type") == "json_invalid" for err in exc.errors())
        return error_response(400, "malformed_json" if malformed else "invalid_request",
                              "; ".join(errors), errors=errors)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.error("HTTP %s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal", "watcher failed to answer this request (its "
                              "log has the details); nothing else stopped")

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route (see /api/v1/openapi.json)"
        return error_response(exc.status_code, code, message)


def describe_problem(err: dict[str, Any]) -> str:
    """One validation error as the CLI would say it: `field: message`."""
    loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
    where = ".".join(loc)
    kind = err.get("type")
    if kind == "json_invalid":
        return f"the body is not valid JSON: {err.get('ctx', {}).get('error', 'malformed')}"
    if kind == "extra_forbidden":
        parent, _, key = where.rpartition(".")
        known = err.get("ctx", {}).get("known", ())
        return f"{parent + ': ' if parent else ''}unknown field '{key}'{did_you_mean(key, known)}"
    if kind == "missing":
        return f"{where}: missing"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
