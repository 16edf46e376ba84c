"""The `email` action against a real SMTP server on 127.0.0.1 (watcher.mail.sink)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import ValidationError

from watcher.actions import ACTIONS
from watcher.actions.base import ActionContext, Outcome, Services
from watcher.actions.email import DEFAULT_BODY, DEFAULT_SUBJECT, Params, execute
from watcher.config import SmtpSettings
from watcher.mail.message import message_id_for
from watcher.mail.sink import SmtpSink
from watcher.pbs.commands import PbsCommands
from watcher.pbs.meanings import TEMPLATE_HELPER

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
KEY = "retry-walltime:pbs_job:12.srv:2026-11-23T09:30:00+00:00"
# The sandbox the engine renders rule templates in (watcher.templating): strict and immutable.
SANDBOX = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def _job(**changes: Any) -> dict[str, Any]:
    job = {
        "id": "12.srv", "name": "sim-1", "owner": "alice", "queue": "workq", "state": "F",
        "substate": 93, "exit_status": -29, "hold_types": "n", "run_count": 1, "depend": "",
        "comment": "Job run at Mon Nov 23 at 08:00 on (n1:ncpus=1) and exceeded resource walltime",
        "submit_arguments": "", "variables": {}, "workdir": "/home/alice/run",
    }  # fmt: skip
    return {**job, **changes}


def _context(job: dict[str, Any] | None = None, kind: str = "pbs_job") -> dict[str, Any]:
    """A template context shaped like watcher.templating.build_context, plus `meanings`."""
    context: dict[str, Any] = {
        "rule": "retry-walltime",
        "event": {"kind": kind, "subject": "12.srv", "change": "changed", "at": NOW},
        "previous": _job(state="R", substate=42, exit_status=None) if job else None,
        "user": {"email": "alice@example.org"},
        "vars": {},
        "now": NOW,
        "meanings": TEMPLATE_HELPER,
    }
    if job is not None:
        context["job"] = job
    return context


def _render(template: str, context: dict[str, Any]) -> str:
    return SANDBOX.from_string(template).render(context)


def _ctx(settings: SmtpSettings | None, key: str = KEY) -> ActionContext:
    return ActionContext(PbsCommands(), key, "retry-walltime", NOW, Services(smtp=settings))


def _run(settings: SmtpSettings | None, key: str = KEY, **params: Any) -> Outcome:
    fields = {"to": "alice@example.org", "subject": "job ended", "body": "details\n", **params}
    return asyncio.run(execute(_ctx(settings, key), Params(**fields)))


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def test_email_is_registered() -> None:
    assert ACTIONS["email"].params is Params
    assert ACTIONS["email"].execute is execute


def test_a_sent_email_carries_the_right_headers_and_body(sink: SmtpSink) -> None:
    outcome = _run(sink.settings(), cc=["bob@example.org"], reply_to="ops@example.org")
    assert outcome.ok, outcome.detail
    [got] = sink.messages
    msg = got.message
    assert msg["From"] == "watcher@localhost"
    assert msg["To"] == "alice@example.org"
    assert msg["Cc"] == "bob@example.org"
    assert msg["Reply-To"] == "ops@example.org"
    assert msg["Subject"] == "job ended"
    assert msg["Date"] == "Mon, 23 Nov 2026 09:30:00 +0000"
    assert msg["X-Watcher-Rule"] == "retry-walltime"
    assert msg["Message-ID"] == message_id_for(KEY, "localhost")
    assert msg.get_content() == "details\n"
    assert got.rcpt_tos == ("alice@example.org", "bob@example.org")
    assert outcome.facts == {"message_id": msg["Message-ID"]}


def test_hostile_job_names_arrive_as_literal_text(sink: SmtpSink) -> None:
    job = _job(name="evil\r\nBcc: mallory@example.org\r\n{{ 7*7 }}")
    context = _context(job)
    outcome = _run(
        sink.settings(),
        subject=_render(DEFAULT_SUBJECT, context),
        body=_render(DEFAULT_BODY, context),
    )
    assert outcome.ok, outcome.detail
    [got] = sink.messages
    assert got.message["Subject"] == (
        "[watcher] retry-walltime: job 12.srv (evil Bcc: mallory@example.org {{ 7*7 }}) "
        "ended, exit -29: walltime exceeded"
    )
    assert got.message["Bcc"] is None
    assert got.rcpt_tos == ("alice@example.org",)
    assert "{{ 7*7 }}" in got.message.get_content()
    assert "49" not in got.message.get_content()


def test_the_same_intent_gets_the_same_message_id(sink: SmtpSink) -> None:
    first, again = _run(sink.settings()), _run(sink.settings())
    other = _run(sink.settings(), key=KEY + "-other")
    ids = [m.message["Message-ID"] for m in sink.messages]
    assert ids[0] == ids[1] != ids[2]
    assert first.facts == again.facts != other.facts


def test_a_refused_connection_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = _run(SmtpSettings(host="127.0.0.1", port=port, timeout=5))
    assert not outcome.ok
    assert outcome.retryable
    assert f"127.0.0.1:{port}" in outcome.detail


def test_a_550_is_permanent() -> None:
    with SmtpSink(refuse={"alice@example.org": "550 5.1.1 mailbox unavailable"}) as sink:
        outcome = _run(sink.settings())
        assert sink.messages == []
    assert not outcome.ok
    assert not outcome.retryable
    assert "550 5.1.1 mailbox unavailable" in outcome.detail


def test_a_bad_address_is_permanent_and_nothing_is_sent(sink: SmtpSink) -> None:
    outcome = _run(sink.settings(), to="alice@example.org\r\nBcc: mallory@example.org")
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert "not an email address" in outcome.detail
    assert sink.messages == []


def test_missing_smtp_settings_are_permanent() -> None:
    outcome = _run(None)
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert "no SMTP server" in outcome.detail and "smtp:" in outcome.detail


def test_an_unrendered_default_template_is_refused(sink: SmtpSink) -> None:
    outcome = asyncio.run(execute(_ctx(sink.settings()), Params(to="alice@example.org")))
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert sink.messages == []


def test_params_reject_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="bcc"):
        Params(to="a@b.c", bcc="x@y.z")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("job", "subject"),
    [
        (_job(), "job 12.srv (sim-1) ended, exit -29: walltime exceeded"),
        (
            _job(state="R", substate=42, exit_status=None),
            "job 12.srv (sim-1) is in substate 42: running",
        ),
        (
            _job(state="H", substate=None, exit_status=None),
            "job 12.srv (sim-1) is H: held",
        ),
    ],
)
def test_default_templates_describe_a_job(job: dict[str, Any], subject: str) -> None:
    context = _context(job)
    assert _render(DEFAULT_SUBJECT, context) == f"[watcher] retry-walltime: {subject}"
    body = _render(DEFAULT_BODY, context)
    assert "Job 12.srv (sim-1), owner alice, queue workq" in body
    assert f"state:       {TEMPLATE_HELPER.state(job['state'])}" in body
    assert ("exit status: -29: walltime exceeded" in body) is (job["exit_status"] == -29)


def test_default_templates_work_for_events_without_a_job() -> None:
    context = _context(None, kind="source_down")
    assert (
        _render(DEFAULT_SUBJECT, context) == "[watcher] retry-walltime: source_down 12.srv changed"
    )
    body = _render(DEFAULT_BODY, context)
    assert body.startswith('Rule "retry-walltime" fired: source_down 12.srv changed')
    assert "Job " not in body
