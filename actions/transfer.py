"""`transfer`: start a Globus transfer, exactly once per intent.

    do:
      - transfer:
          source_endpoint: "{{ vars.cluster }}"
          destination_endpoint: "{{ vars.archive }}"
          items: [{source: "/scratch/run1/out/", destination: "/archive/run1/", recursive: true}]
          deadline: 12h

`items` lists `{source, destination, recursive}`; `source_path` + `destination_path` is the
one-item shorthand, and `recursive` is the default for items that do not say. `sync_level`
(`exists`, `size`, `mtime`, `checksum`) skips files already there. `deadline` is a duration
from submission (`12h`) or an ISO time (local time without an offset). Globus's own mails are
off by default (`notify_on_*`): the watcher's rules do the telling.

The task id is returned in the outcome's facts and put on the Globus source's watch list, so
`globus_task` rules can follow it. Exactly once: see `watcher.globus.submit`. The Transfer
client is `ctx.services.transfer` and the store `ctx.services.store`.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.lang.durations import parse_duration
from watcher.templating import is_template

if TYPE_CHECKING:
    import globus_sdk

SyncLevel = Literal["exists", "size", "mtime", "checksum"]
_LABEL_MAX = 128  # Transfer's limit; one line, no outer spaces


class TransferItem(BaseModel):
    """One source/destination pair; `recursive` None takes the action's `recursive`."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    recursive: bool | None = None


class Params(ActionParams):
    """Endpoints, what to copy, and Globus's transfer options."""

    source_endpoint: str = Field(min_length=1)
    destination_endpoint: str = Field(min_length=1)
    items: list[TransferItem] = Field(default_factory=list)
    source_path: str | None = None
    destination_path: str | None = None
    recursive: bool = False
    label: str = "watcher {{ rule }}"
    sync_level: SyncLevel | None = None
    verify_checksum: bool = True
    preserve_timestamp: bool = False
    deadline: str | None = None
    fail_on_quota_errors: bool = False
    skip_source_errors: bool = False
    notify_on_succeeded: bool = False
    notify_on_failed: bool = False
    notify_on_inactive: bool = False

    @field_validator("deadline")
    @classmethod
    def _deadline_readable(cls, value: str | None) -> str | None:
        if value is not None:
            deadline_at(value, datetime.now().astimezone())
        return value

    @model_validator(mode="after")
    def _one_way_to_say_items(self) -> Params:
        short = (self.source_path, self.destination_path)
        if self.items and any(p is not None for p in short):
            raise ValueError("at most one of 'items' and 'source_path'/'destination_path'")
        if not self.items and None in short:
            raise ValueError("expected 'items', or both 'source_path' and 'destination_path'")
        return self

    def pairs(self) -> list[tuple[str, str, bool]]:
        """(source, destination, recursive) to transfer: one per item, or the one pair."""
        if not self.items:
            assert self.source_path is not None and self.destination_path is not None
            return [(self.source_path, self.destination_path, self.recursive)]
        return [(i.source, i.destination, self.recursive if i.recursive is None else i.recursive)
                for i in self.items]


def deadline_at(value: str, now: datetime) -> datetime:
    """`12h` from `now`, or an ISO time; ValueError names both forms."""
    try:
        return now + parse_duration(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected a duration like '12h' or an ISO time like "
                         f"'2026-05-01T18:00' but got '{value}'") from None
    return moment if moment.tzinfo else moment.astimezone()


def label_for(params: Params, ctx: ActionContext) -> str:
    """The label as Transfer takes it; an unrendered default falls back to the rule's name."""
    label = f"watcher {ctx.rule}" if is_template(params.label) else params.label
    return re.sub(r"\s+", " ", label).strip()[:_LABEL_MAX].strip() or f"watcher {ctx.rule}"


def transfer_data(params: Params, ctx: ActionContext, submission_id: str
                  ) -> globus_sdk.TransferData:
    """The SDK's TransferData for one submission; `submission_id` makes a retry idempotent."""
    import globus_sdk  # late: see watcher.actions.base

    deadline = deadline_at(params.deadline, ctx.now) if params.deadline else None
    options = {name: getattr(params, name) for name in (
        "verify_checksum", "preserve_timestamp", "fail_on_quota_errors", "skip_source_errors",
        "notify_on_succeeded", "notify_on_failed", "notify_on_inactive")}
    data = globus_sdk.TransferData(
        params.source_endpoint, params.destination_endpoint, label=label_for(params, ctx),
        submission_id=submission_id, **options,
        **({"sync_level": params.sync_level} if params.sync_level else {}),
        **({"deadline": deadline.isoformat()} if deadline else {}))
    for source, destination, recursive in params.pairs():
        data.add_item(source, destination, recursive=recursive)
    return data


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Submit once (the SDK's calls block: they run in a worker thread)."""
    from watcher.globus.submit import SubmitError, submit_once  # late: see watcher.actions.base

    tc, store = ctx.services.transfer, ctx.services.store
    if tc is None:
        return Outcome.missing("Globus client", "the watcher runs without Globus (configure it "
                               "and run `watcher login`)")
    try:
        done = await asyncio.to_thread(
            submit_once, tc, lambda sid: transfer_data(params, ctx, sid), store=store,
            intent_key=ctx.idempotency_key, watch_info={"rule": ctx.rule})
    except SubmitError as exc:
        return Outcome.failed(str(exc), retryable=exc.retryable)
    pairs = params.pairs()
    detail = (f"Globus task {done.task_id}: {len(pairs)} item(s) from "
              f"{params.source_endpoint}:{pairs[0][0]} to "
              f"{params.destination_endpoint}:{pairs[0][1]}")
    if done.recorded:
        detail += " (submitted by an earlier attempt)"
    elif done.duplicate:
        detail += " (Globus already had this submission: an earlier attempt got through)"
    if store is None:
        detail += "; no store, so exactly-once is not guaranteed"
    return Outcome.done(detail, task_id=done.task_id, submission_id=done.submission_id)
