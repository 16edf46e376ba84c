"""`email`: send a plain-text message about what a rule saw.

    do:
      - email: {to: "{{ user.email }}", subject: "PBS is aborting {{ job.id }}"}

Settings: the service passes the `smtp` section of the settings file (`SmtpSettings`) as
`ctx.services.smtp`.

Templates: `subject` and `body` default to `DEFAULT_SUBJECT` and `DEFAULT_BODY`, which are Jinja
text like any rule field. They use the context of `watcher.templating` (`rule` the rule's name,
`event`, `job` for PBS events, `previous`) plus `meanings`, which the engine must add as
`watcher.pbs.meanings.TEMPLATE_HELPER`. Because they are defaults, the engine has to render params
after defaults are applied (validate, `model_dump()`, render, validate again); an unrendered
default that reaches `execute` is refused rather than mailed. Text arrives rendered (this module
renders only a digest's own templates, below), so `{{ 7*7 }}` inside a job name is mailed as
those characters.

Grouping (`watcher.engine.grouping`): with `group_by`, the firings of one group arrive as one
intent whose `digest` lists an item per firing. Two or more items make a digest message
("[watcher] 50 jobs: rule storm"), one line per item (`item`, default `DEFAULT_ITEM`: the job and
its exit status in words); a group of one is sent as the ordinary message of that firing.
`digest_subject` and `digest_body` replace a digest's subject and body: templates rendered here,
when the digest is sent, over `rule`, `now` and `digest` (`total noun group omitted lines items
first_at last_at`); the firings' values reach them as data, never as template text.

At most once: the Message-ID is derived from `ctx.idempotency_key`, and as soon as the server
accepts the message (before QUIT) its Message-ID is journaled in its own commit (`record_effect`),
so a crash before the ledger records the outcome does not send it again. Only a crash in the
instant between the server's acceptance and that commit can send the same message twice, with
the same Message-ID, which mail servers and clients recognise as a duplicate. SMTP offers nothing
stronger: a server's acceptance and our record of it can never be one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from watcher.actions.base import ActionContext, ActionParams, Outcome
from watcher.actions.digest import Digest, GroupingParams
from watcher.actions.effects import record_effect
from watcher.kinds import kind_of
from watcher.mail.message import (
    MessageError,
    build_message,
    clean_header,
    domain_of,
    message_id_for,
)
from watcher.templating import TemplateError, render

# What happened to the subject, in a few words: the end of a subject line, a digest's line.
DEFAULT_ITEM = (
    "{% if job is defined and job %}job {{ job.id }} ({{ job.name }}) "
    "{% if event.change == 'vanished' %}vanished"
    "{% elif job.exit_status is not none %}ended, exit {{ meanings.exit_status(job.exit_status) }}"
    "{% elif job.substate is not none %}is in substate {{ meanings.substate(job.substate) }}"
    "{% else %}is {{ meanings.state(job.state) }}{% endif %}"
    "{% else %}{{ event.kind }} {{ event.subject }} {{ event.change }}{% endif %}"
)
DEFAULT_SUBJECT = "[watcher] {{ rule }}: " + DEFAULT_ITEM
# "-- " (with its trailing space) is the standard signature separator.
DEFAULT_BODY = """\
Rule "{{ rule }}" fired: {{ event.kind }} {{ event.subject }} {{ event.change }}, \
observed at {{ event.at }}.
{% if job is defined and job %}
Job {{ job.id }} ({{ job.name }}), owner {{ job.owner }}, queue {{ job.queue }}
  state:       {{ meanings.state(job.state) }}
  substate:    {{ meanings.substate(job.substate) }}
{%- if previous is defined and previous and previous.state is defined %}
  before:      {{ meanings.state(previous.state) }}
{%- endif %}
{%- if job.exit_status is not none or job.state == "F" %}
  exit status: {{ meanings.exit_status(job.exit_status) }}
{%- endif %}
{%- if job.comment %}
  comment:     {{ job.comment }}
{%- endif %}
{%- if job.workdir %}
  workdir:     {{ job.workdir }}
{%- endif %}
{% endif %}
--\x20
Sent by watcher.
"""


class Params(GroupingParams, ActionParams):
    """Recipients (one address, a comma-separated list, or a list), subject and body; with
    `group_by`, one digest per group of firings."""

    DEFAULT_ITEM: ClassVar[str] = DEFAULT_ITEM
    PER_ITEM: ClassVar[frozenset[str]] = frozenset({"subject", "body"})
    # Rendered when the digest is sent, with `rule`, `digest` and `now` (DIGEST_VARIABLES).
    RENDERED_LATER: ClassVar[frozenset[str]] = frozenset({"digest_subject", "digest_body"})

    to: str | list[str]
    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY
    cc: str | list[str] = Field(default_factory=list)
    reply_to: str | None = None
    # A digest's own subject and body (templates over the whole group); the defaults say
    # "[watcher] 30 jobs: rule NAME" and list one `item` line per firing.
    digest_subject: str | None = None
    digest_body: str | None = None


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Build the message with a key-derived Message-ID and hand it to the SMTP server."""
    settings = ctx.services.smtp
    if settings is None:
        return Outcome.missing("SMTP server", "give its settings under `smtp:` in config.yaml")
    if params.subject == DEFAULT_SUBJECT or params.body == DEFAULT_BODY:
        return Outcome.failed("the default email template arrived unrendered", retryable=False)
    subject, body = params.subject, params.body
    if params.digest is not None and params.digest.total > 1:
        subject, body = digest_text(ctx.rule, params.digest)
        try:
            subject, body = _digest_templates(ctx, params, subject, body)
        except TemplateError as exc:
            return Outcome.failed(f"email not sent: {exc}", retryable=False)
    try:
        msg = build_message(
            sender=settings.sender,
            to=params.to,
            cc=params.cc,
            reply_to=params.reply_to,
            subject=subject,
            body=body,
            message_id=message_id_for(ctx.idempotency_key, domain_of(settings.sender)),
            date=ctx.now,
            headers={"X-Watcher-Rule": ctx.rule},
        )
    except MessageError as exc:
        return Outcome.failed(f"email not sent: {exc}", retryable=False)
    message_id = str(msg["Message-ID"])

    def sent(reply: str) -> str:
        return f"email {message_id} sent to {msg['To']}: {reply}"

    async def journal(reply: str) -> None:  # before QUIT: see watcher.mail.send
        await record_effect(ctx, sent(reply), message_id=message_id)

    from watcher.mail.send import SendError, send_message  # late: see watcher.actions.base

    try:
        reply = await send_message(settings, msg, on_accepted=journal)
    except SendError as exc:
        return Outcome.failed(f"email {message_id} not sent: {exc}", retryable=exc.retryable)
    return Outcome.done(sent(reply), message_id=message_id)


def digest_context(rule: str, digest: Digest, now: datetime) -> dict[str, Any]:
    """What `digest_subject` and `digest_body` templates see (DIGEST_VARIABLES)."""
    kinds = {item.kind for item in digest.items}
    noun = kind_of(next(iter(kinds))).plural if len(kinds) == 1 else "events"
    return {"rule": rule, "now": now, "digest": {
        "total": digest.total, "noun": noun, "group": dict(digest.group),
        "omitted": digest.omitted, "lines": [item.line for item in digest.items],
        "items": [item.model_dump() for item in digest.items],
        "first_at": digest.items[0].at, "last_at": digest.items[-1].at}}


def _digest_templates(ctx: ActionContext, params: Params, subject: str, body: str
                      ) -> tuple[str, str]:
    if params.digest is None or (params.digest_subject is None and params.digest_body is None):
        return subject, body
    context = digest_context(ctx.rule, params.digest, ctx.now)
    if params.digest_subject is not None:
        subject = render(params.digest_subject, context, "email.digest_subject")
    if params.digest_body is not None:
        body = render(params.digest_body, context, "email.digest_body")
    return subject, body


def digest_text(rule: str, digest: Digest) -> tuple[str, str]:
    """Subject and body of a digest: one line per item, oldest first. Pure."""
    kinds = {item.kind for item in digest.items}
    noun = kind_of(kinds.pop()).plural if len(kinds) == 1 else "events"
    labels = ", ".join(f"{k}={v}" for k, v in digest.group.items() if k != "rule")
    subject = f"[watcher] {digest.total} {noun}: rule {rule}" + (f" ({labels})" if labels else "")
    first, last = (item.at.astimezone(UTC) for item in (digest.items[0], digest.items[-1]))
    lines = [f'Rule "{rule}" fired for {digest.total} {noun} between {first:%Y-%m-%d %H:%M:%S} '
             f"and {last:%Y-%m-%d %H:%M:%S} UTC" + (f", grouped by {labels}." if labels else "."),
             "", *(clean_header(item.line) for item in digest.items)]
    if digest.omitted:
        lines.append(f"... and {digest.omitted} more: watcher history --rule {rule}")
    return subject, "\n".join([*lines, "", "-- ", "Sent by watcher.", ""])
