"""`email`: send a plain-text message about what a rule saw.

    do:
      - email: {to: "{{ user.email }}", subject: "PBS is aborting {{ job.id }}"}

Settings: the engine passes the `smtp` section of the settings file (`SmtpSettings`) as
`ctx.services["smtp"]` (`SMTP_SERVICE`).

Templates: `subject` and `body` default to `DEFAULT_SUBJECT` and `DEFAULT_BODY`, which are Jinja
text like any rule field. They use the context of `watcher.templating` (`rule` the rule's name,
`event`, `job` for PBS events, `previous`) plus `meanings`, which the engine must add as
`watcher.pbs.meanings.TEMPLATE_HELPER`. Because they are defaults, the engine has to render params
after defaults are applied (validate, `model_dump()`, render, validate again); an unrendered
default that reaches `execute` is refused rather than mailed. This module renders nothing: text
arrives rendered, so `{{ 7*7 }}` inside a job name is mailed as those characters.

At most once: the Message-ID is derived from `ctx.idempotency_key` and returned in the outcome's
facts, which the ledger records. A crash after the server accepted the message but before the
ledger recorded it can, at worst, send the same message again with the same Message-ID, which
mail servers and clients recognise as a duplicate. SMTP offers nothing stronger: a server's
acceptance and our record of it can never be one transaction.
"""

from __future__ import annotations

from pydantic import Field

from actions.base import ActionContext, ActionParams, Outcome
from watcher.config import SmtpSettings
from watcher.mail.message import MessageError, build_message, domain_of, message_id_for
from watcher.mail.send import SendError, send_message

SMTP_SERVICE = "smtp"

DEFAULT_SUBJECT = (
    "[watcher] {{ rule }}: "
    "{% if job is defined and job %}job {{ job.id }} ({{ job.name }}) "
    "{% if event.change == 'vanished' %}vanished"
    "{% elif job.exit_status is not none %}ended, exit {{ meanings.exit_status(job.exit_status) }}"
    "{% elif job.substate is not none %}is in substate {{ meanings.substate(job.substate) }}"
    "{% else %}is {{ meanings.state(job.state) }}{% endif %}"
    "{% else %}{{ event.kind }} {{ event.subject }} {{ event.change }}{% endif %}"
)
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


class Params(ActionParams):
    """Recipients (one address, a comma-separated list, or a list), subject and body."""

    to: str | list[str]
    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY
    cc: str | list[str] = Field(default_factory=list)
    reply_to: str | None = None


async def execute(ctx: ActionContext, params: Params) -> Outcome:
    """Build the message with a key-derived Message-ID and hand it to the SMTP server."""
    settings = ctx.services.get(SMTP_SERVICE)
    if not isinstance(settings, SmtpSettings):
        return Outcome.failed(f"no SMTP settings in services[{SMTP_SERVICE!r}]", retryable=False)
    if params.subject == DEFAULT_SUBJECT or params.body == DEFAULT_BODY:
        return Outcome.failed("the default email template arrived unrendered", retryable=False)
    try:
        msg = build_message(
            sender=settings.sender,
            to=params.to,
            cc=params.cc,
            reply_to=params.reply_to,
            subject=params.subject,
            body=params.body,
            message_id=message_id_for(ctx.idempotency_key, domain_of(settings.sender)),
            date=ctx.now,
            headers={"X-Watcher-Rule": ctx.rule},
        )
    except MessageError as exc:
        return Outcome.failed(f"email not sent: {exc}", retryable=False)
    message_id = str(msg["Message-ID"])
    try:
        reply = await send_message(settings, msg)
    except SendError as exc:
        return Outcome.failed(f"email {message_id} not sent: {exc}", retryable=exc.retryable)
    return Outcome.done(f"email {message_id} sent to {msg['To']}: {reply}", message_id=message_id)
