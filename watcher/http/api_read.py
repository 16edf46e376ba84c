"""`/api/v1`: rules, firings, sources and their health, dead actions, the whole status, and
silences (list, add, remove). Each answers what the CLI's `--json` prints."""

from __future__ import annotations

import dataclasses
import getpass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from watcher.engine.silences import add_silence, end_silence, load_silences
from watcher.http.context import HttpContext
from watcher.http.errors import ApiError, JsonResponse
from watcher.http.ids import checked
from watcher.lang.durations import parse_duration
from watcher.ledger.history import load_history
from watcher.rules.loader import load_rules
from watcher.views.rules import rule_items
from watcher.views.silences import SilenceRefused, check_glob, check_known, known_rules
from watcher.views.status import (
    StatusInputs,
    collect,
    credentials,
    dead_intents,
    instances,
    sources,
)

router = APIRouter(prefix="/api/v1")


def _ctx(request: Request) -> HttpContext:
    return request.app.state.ctx


@router.get("/rules", tags=["rules"], summary="Rules with their state and counts")
async def rules(request: Request) -> Any:
    """`watcher rules list --json`: every rule with its triggers, actions, state and firing
    counts, then each invalid rule file with its errors."""
    ctx = _ctx(request)
    ruleset = await ctx.call(load_rules, list(ctx.rule_paths))
    return await ctx.read(lambda session: rule_items(ruleset, session))


@router.get("/firings", tags=["history"], summary="Rule firings with their actions")
async def firings(request: Request, rule: str | None = None, subject: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Any:
    """`watcher history --json`: the most recent firings, newest last."""
    ctx = _ctx(request)
    lines = await ctx.call(lambda: load_history(ctx.store, rule=rule, subject=subject,
                                                limit=limit))
    return [dataclasses.asdict(line) for line in lines]


async def _sections(request: Request, *names: Any) -> dict[str, Any]:
    ctx = _ctx(request)
    ruleset = await ctx.call(load_rules, list(ctx.rule_paths))

    def read(session: Session) -> dict[str, Any]:
        inputs = StatusInputs(ruleset, session, ctx.settings)
        chosen = collect(inputs) if not names else [name(inputs) for name in names]
        return {section.key: section.rows for section in chosen}

    return await ctx.read(read)


@router.get("/status", tags=["status"], summary="Everything `watcher status` shows")
async def status(request: Request) -> Any:
    """`watcher status --json`."""
    return await _sections(request)


@router.get("/sources", tags=["status"], summary="Sources, their health and who polls them")
async def sources_(request: Request) -> Any:
    """`watcher status --json`'s sources, instances and Globus credentials."""
    return await _sections(request, sources, instances, credentials)


@router.get("/dead-actions", tags=["status"], summary="Actions that failed for good")
async def dead_actions(request: Request) -> Any:
    """`watcher status --json`'s dead intents, oldest first."""
    return (await _sections(request, dead_intents))["dead_intents"]


@router.get("/silences", tags=["silences"], summary="Silences in force (all with ?all=true)")
async def silences(request: Request, all: bool = False) -> Any:
    """`watcher silence list --json`."""
    now = datetime.now(UTC)
    found = await _ctx(request).read(load_silences)
    return [{**s.to_value(), "active": s.active(now)} for s in found if all or s.active(now)]


class NewSilence(BaseModel):
    """`watcher silence add RULE --for DURATION`'s arguments."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rule: str = Field(max_length=200)
    duration: timedelta = Field(alias="for", description="How long: 30m, 2h, 1d, ...")
    subject: str | None = Field(None, max_length=200)
    comment: str = Field("", max_length=1000)
    force: bool = False

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


@router.post("/silences", tags=["silences"], status_code=201, summary="Mute a rule for a while")
async def add(request: Request, body: NewSilence) -> Any:
    """`watcher silence add`: a name or glob that is no known rule is refused unless `force`."""
    ctx = _ctx(request)

    def write(session: Session) -> dict[str, Any]:
        check_glob(body.rule)
        if not body.force:
            check_known(body.rule, known_rules(session, list(ctx.rule_paths)))
        now = datetime.now(UTC)
        added = add_silence(session, body.rule, body.duration, now, subject=body.subject,
                            comment=body.comment, created_by=getpass.getuser())
        return {**added.to_value(), "active": added.active(now)}

    try:
        return JsonResponse(await ctx.write(write), status_code=201)
    except SilenceRefused as exc:
        raise ApiError(400, "unknown_rule", str(exc)) from exc


@router.delete("/silences/{silence_id}", tags=["silences"], summary="End a silence now")
async def remove(request: Request, silence_id: str) -> Any:
    """`watcher silence remove ID`: it stays listed with ?all=true."""
    checked(silence_id, "silence", "3f2a9c1b")
    now = datetime.now(UTC)
    ended = await _ctx(request).write(end_silence, silence_id, now)
    if ended is None:
        raise ApiError(404, "not_found",
                       f"no silence '{silence_id}' (see 'watcher silence list --all')")
    return {**ended.to_value(), "active": ended.active(now),
            "already_ended": ended.until != now}
