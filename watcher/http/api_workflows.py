"""`/api/v1/workflows`: list, one with its steps and log, submit (idempotent), cancel."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from watcher.http import submissions
from watcher.http.context import HttpContext
from watcher.http.errors import ApiError, JsonResponse, describe_problem
from watcher.http.ids import checked
from watcher.lang.durations import parse_duration
from watcher.service.workflow_submit import (
    IncompleteWorkflow,
    SubmitProblem,
    cancel_workflow,
    retry_workflow,
    submit,
)
from watcher.views.workflows import list_workflows, workflow_detail
from watcher.workflows.cancel import CancelRefused
from watcher.workflows.graph import GraphSpec
from watcher.workflows.graph_retry import RetryRefused
from watcher.workflows.specfile import SpecFileError, load_workflow_text

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
_SPEC_NAME = Path("spec")  # errors read `spec:3:1: emial: unknown key ...`


def _ctx(request: Request) -> HttpContext:
    return request.app.state.ctx


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("", summary="Workflows, most recently changed first")
async def workflows(request: Request, step: str | None = None, name: str | None = None,
                    ended: bool | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Any:
    """`watcher status --json`'s `workflows` rows: id, name, step, age, last event."""
    return await _ctx(request).read(lambda s: list_workflows(
        s, _now(), step=step, name=name, ended=ended, limit=limit))


@router.get("/{workflow_id}", summary="One workflow with its steps and step log")
async def workflow(request: Request, workflow_id: str) -> Any:
    """The workflow as `watcher history WF --json` shows it; 404 when there is no such workflow."""
    checked(workflow_id, "workflow", "wf-1a2b3c")
    found = await _ctx(request).read(workflow_detail, workflow_id, _now())
    if found is None:
        raise ApiError(404, "not_found", f"no workflow '{workflow_id}' (see 'watcher status')")
    return found


@router.get("/{workflow_id}/log", summary="A workflow's step log (`watcher history WF --json`)")
async def workflow_log(request: Request, workflow_id: str) -> Any:
    """The `log` list of `GET /api/v1/workflows/{id}`; 404 when there is no such workflow."""
    return (await workflow(request, workflow_id))["log"]


class Submission(BaseModel):
    """A workflow file's text and where its scripts are."""

    model_config = ConfigDict(extra="forbid")

    spec: str = Field(description="The YAML of a workflow file, as `watcher stage submit -f` "
                                  "takes it.")
    workdir: str = Field(description="Absolute path of the directory the spec's scripts are "
                                     "relative to (where `stage submit` would run).")
    queue_wait: str | None = Field(None, description="Expected queue wait, e.g. 2d.")
    strict: bool = Field(False, description="Refuse when a credential would lapse first.")
    submission_id: str | None = Field(None, description="Same as the Idempotency-Key header.")


_SUBMIT_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Submission"}},
    "application/yaml": {"schema": {"type": "string"},
                         "description": "The workflow file itself; `workdir` (and "
                                        "`queue_wait`, `strict`) as query parameters."}}}}


@router.post("", status_code=201, summary="Submit a staged workflow", openapi_extra=_SUBMIT_DOC)
async def submit_workflow(request: Request, idempotency_key: Annotated[
        str | None, Header(description="A key of yours: a repeated POST with it makes one "
                                       "workflow.")] = None) -> Any:
    """Record the workflow, submit its jobs held and start its stage-in, as `watcher stage
    submit -f` does; answers `{"workflow": id, "done": [...], "warnings": [...]}`."""
    ctx = _ctx(request)
    body = await request.body()
    sub = _submission(request, body)
    spec = _spec(sub.spec)
    workdir = Path(sub.workdir)
    if not workdir.is_absolute() or not workdir.is_dir():
        raise ApiError(400, "invalid_request",
                       f"workdir: '{sub.workdir}' is not an absolute path of a directory")
    wait = _duration(sub.queue_wait)
    key = idempotency_key or sub.submission_id
    if key is None:
        return await _submit(ctx, spec, workdir, wait, sub.strict, None)
    if not submissions.KEY.match(key):
        raise ApiError(400, "invalid_request", "Idempotency-Key: expected 1 to 100 letters, "
                       "digits or ._:- characters")
    # What was asked, whichever way it was sent (JSON or the file with query parameters).
    asked = submissions.digest(sub.model_dump_json(exclude={"submission_id"}).encode())
    lock = ctx.submitting.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            seen = await ctx.write(submissions.reserve, key, asked, _now())
            if seen is None:
                return await _submit(ctx, spec, workdir, wait, sub.strict, key)
    finally:  # the store's row decides from here; the lock only spares it a race
        if not lock.locked():
            ctx.submitting.pop(key, None)
    if seen.digest != asked:
        raise ApiError(409, "submission_id_reused", f"submission id '{key}' was used for "
                       "another request; use a new one for a new workflow")
    if seen.workflow is None:
        raise ApiError(409, "submission_in_progress", f"submission '{key}' is being submitted "
                       "now; ask again in a moment")
    return JsonResponse({"workflow": seen.workflow, "done": [], "warnings": [],
                         "replayed": True}, status_code=200)


def _submission(request: Request, body: bytes) -> Submission:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    try:
        if kind in ("application/yaml", "application/x-yaml", "text/yaml"):
            params = dict(request.query_params)
            data: Any = {"spec": body.decode(), **params}
            if "strict" in data:
                data["strict"] = data["strict"].lower() in ("1", "true", "yes")
        elif kind == "application/json":
            data = json.loads(body)
        else:
            raise ApiError(415, "unsupported_media_type", f"send application/json or "
                           f"application/yaml, not '{kind}'")
        return Submission.model_validate(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        errors = [describe_problem({**err, "ctx": {**err.get("ctx", {}),
                                           "known": list(Submission.model_fields)}})
                  for err in exc.errors()]
        raise ApiError(400, "invalid_request", "; ".join(errors), errors=errors) from exc


def _spec(text: str) -> GraphSpec:
    try:
        return load_workflow_text(text, _SPEC_NAME)
    except SpecFileError as exc:
        raise ApiError(400, "invalid_spec", str(exc),
                       errors=[error.to_dict() for error in exc.errors]) from exc


def _duration(text: str | None) -> timedelta:
    try:
        return parse_duration(text) if text else timedelta()
    except ValueError as exc:
        raise ApiError(400, "invalid_request", f"queue_wait: {exc}") from exc


async def _submit(ctx: HttpContext, spec: GraphSpec, workdir: Path,
                  wait: timedelta,
                  strict: bool, key: str | None) -> JsonResponse:
    warnings: list[str] = []

    def recorded(workflow_id: str) -> None:
        if key is not None:
            with ctx.store.session() as session:
                submissions.bind(session, key, workflow_id)

    def run() -> tuple[str, list[str]]:
        return submit(ctx.settings, ctx.store, spec, workdir, recorded=recorded, strict=strict,
                      queue_wait=wait, warn=warnings.append)

    try:
        workflow_id, done = await ctx.call(run)
    except SubmitProblem as exc:
        if key is not None:
            await ctx.write(submissions.release, key)
        raise ApiError(400, "submit_refused", str(exc)) from exc
    except IncompleteWorkflow as exc:
        raise ApiError(502, "incomplete", f"{exc}; the workflow is recorded: once the cause is "
                       f"fixed, run `watcher stage submit --resume {exc.workflow_id}`",
                       workflow=exc.workflow_id) from exc
    return JsonResponse({"workflow": workflow_id, "done": done, "warnings": warnings},
                        status_code=201)


class CancelRequest(BaseModel):
    """Why the workflow is cancelled (recorded in its step log)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=1000)


@router.post("/{workflow_id}/cancel", summary="Cancel a workflow")
async def cancel(request: Request, workflow_id: str, body: CancelRequest | None = None) -> Any:
    """`watcher stage cancel WF`: qdel its jobs, cancel its transfers, record why."""
    checked(workflow_id, "workflow", "wf-1a2b3c")
    ctx = _ctx(request)
    reason = body.reason if body else ""
    try:
        result = await ctx.call(cancel_workflow, ctx.settings, ctx.store, workflow_id, reason)
    except CancelRefused as exc:
        raise ApiError(404 if exc.code == "not_found" else 409, exc.code, str(exc)) from exc
    answer = {"workflow": workflow_id, "done": result.done, "failed": result.failed}
    if result.failed:
        raise ApiError(503, "cancel_incomplete", "; ".join(result.failed) + "; cancel again "
                       "to finish", **answer)
    return answer


class RetryRequest(BaseModel):
    """Which steps to run again (none: every step that did not succeed)."""

    model_config = ConfigDict(extra="forbid")

    steps: list[str] = Field(default_factory=list, max_length=1000)


@router.post("/{workflow_id}/retry", summary="Run again what did not succeed")
async def retry(request: Request, workflow_id: str, body: RetryRequest | None = None) -> Any:
    """`watcher stage retry WF [STEP]...`: a failed graph workflow's steps that did not
    succeed (or the named ones and those after them) run again; what succeeded is kept."""
    checked(workflow_id, "workflow", "wf-1a2b3c")
    ctx = _ctx(request)
    names = body.steps if body else []
    try:
        reopened, done = await ctx.call(retry_workflow, ctx.settings, ctx.store, workflow_id,
                                        names)
    except RetryRefused as exc:
        status = 404 if str(exc).startswith("no workflow") else 409
        raise ApiError(status, "not_found" if status == 404 else "retry_refused",
                       str(exc)) from exc
    except IncompleteWorkflow as exc:
        raise ApiError(502, "incomplete", f"{exc}; run `watcher stage submit --resume "
                       f"{workflow_id}` once the cause is fixed", workflow=workflow_id) from exc
    return {"workflow": workflow_id, "steps": reopened, "done": done}
