"""Sending through a real SMTP server on 127.0.0.1, and what each failure is classified as."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.mail.conftest import TlsFiles
from watcher.config import SmtpSettings
from watcher.mail.message import build_message, message_id_for
from watcher.mail.send import SendError, send_message
from watcher.mail.sink import SmtpSink


def _msg(to: str | list[str] = "alice@example.org", cc: list[str] | None = None) -> EmailMessage:
    return build_message(
        sender="watcher@localhost",
        to=to,
        cc=cc or [],
        subject="job 12.srv finished",
        body="exit 0\n",
        message_id=message_id_for("k", "localhost"),
    )


def _send(settings: SmtpSettings, msg: EmailMessage | None = None) -> str:
    return asyncio.run(send_message(settings, msg or _msg()))


def _failure(settings: SmtpSettings, msg: EmailMessage | None = None) -> SendError:
    with pytest.raises(SendError) as caught:
        _send(settings, msg)
    return caught.value


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: bound once to learn it, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_plain_send_delivers_to_to_and_cc(sink: SmtpSink) -> None:
    reply = _send(sink.settings(), _msg(cc=["bob@example.org"]))
    assert reply.startswith("Message accepted")
    [got] = sink.messages
    assert got.rcpt_tos == ("alice@example.org", "bob@example.org")
    assert got.mail_from == "watcher@localhost"
    assert got.message["Subject"] == "job 12.srv finished"
    assert got.message.get_content() == "exit 0\n"


def test_starttls_with_a_trusted_certificate(
    tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SSL_CERT_FILE is how a site with its own CA makes watcher trust its relay.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))
    with SmtpSink(starttls=tls_files.server_context) as sink:
        assert sink.settings().security == "starttls"
        _send(sink.settings())
        assert len(sink.messages) == 1


def test_implicit_tls_with_a_trusted_certificate(
    tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))
    with SmtpSink(tls=tls_files.server_context) as sink:
        _send(sink.settings())
        assert len(sink.messages) == 1


def test_an_untrusted_certificate_is_permanent(tls_files: TlsFiles) -> None:
    with SmtpSink(starttls=tls_files.server_context) as sink:
        error = _failure(sink.settings())
    assert not error.retryable
    assert "certificate" in str(error).lower()


def test_starttls_required_but_not_offered_is_permanent(sink: SmtpSink) -> None:
    error = _failure(sink.settings(security="starttls"))
    assert not error.retryable
    assert "STARTTLS" in str(error)
    assert sink.messages == []


def test_login_with_the_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_TEST_SMTP_PW", "s3cret")
    with SmtpSink(credentials={"alice": "s3cret"}) as sink:
        _send(sink.settings(username="alice", password_env="WATCHER_TEST_SMTP_PW"))
        assert [m.login for m in sink.messages] == ["alice"]


def test_login_with_the_password_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    with SmtpSink(credentials={"alice": "s3cret"}) as sink:
        _send(sink.settings(username="alice", password_file=tmp_path / "pw"))
        assert [m.login for m in sink.messages] == ["alice"]


def test_a_wrong_password_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_TEST_SMTP_PW", "wrong")
    with SmtpSink(credentials={"alice": "s3cret"}) as sink:
        error = _failure(sink.settings(username="alice", password_env="WATCHER_TEST_SMTP_PW"))
        assert sink.messages == []
    assert not error.retryable
    assert "535" in str(error)


def test_a_sink_with_credentials_refuses_mail_without_login() -> None:
    with SmtpSink(credentials={"alice": "s3cret"}) as sink:
        error = _failure(sink.settings())
        assert sink.messages == []
    assert not error.retryable
    assert "530" in str(error)


def test_a_username_without_a_password_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHER_TEST_SMTP_PW", raising=False)
    settings = SmtpSettings(username="alice", password_env="WATCHER_TEST_SMTP_PW")
    error = _failure(settings)
    assert not error.retryable
    assert "'WATCHER_TEST_SMTP_PW' is not set" in str(error)


def test_a_refused_connection_is_retryable(unused_port: int) -> None:
    error = _failure(SmtpSettings(host="127.0.0.1", port=unused_port, timeout=5))
    assert error.retryable
    assert f"127.0.0.1:{unused_port}" in str(error)


def test_a_silent_server_times_out_retryably() -> None:
    with socket.socket() as listener:  # accepts at kernel level, never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        error = _failure(SmtpSettings(host="127.0.0.1", port=port, timeout=0.3))
    assert error.retryable


def test_550_for_every_recipient_is_permanent() -> None:
    with SmtpSink(refuse={"alice@example.org": "550 5.1.1 mailbox unavailable"}) as sink:
        error = _failure(sink.settings())
        assert sink.messages == []
    assert not error.retryable
    assert "550 5.1.1 mailbox unavailable" in str(error)


def test_a_temporary_refusal_is_retryable() -> None:
    with SmtpSink(refuse={"alice@example.org": "450 4.2.1 mailbox busy"}) as sink:
        assert _failure(sink.settings()).retryable


def test_a_partial_refusal_still_counts_as_sent_and_names_who_was_refused() -> None:
    with SmtpSink(refuse={"bob@example.org": "550 5.1.1 no such user"}) as sink:
        reply = _send(sink.settings(), _msg(cc=["bob@example.org"]))
        [got] = sink.messages
    assert got.rcpt_tos == ("alice@example.org",)
    assert "bob@example.org: 550" in reply


@pytest.mark.parametrize(
    ("data_reply", "retryable"),
    [("451 4.3.0 try again later", True), ("554 5.6.0 message rejected", False)],
)
def test_a_refused_message_body_is_classified_by_its_code(data_reply: str, retryable: bool) -> None:
    with SmtpSink(data_reply=data_reply) as sink:
        error = _failure(sink.settings())
    assert error.retryable is retryable
    assert data_reply.split()[0] in str(error)


def test_the_journal_hook_runs_once_the_server_has_the_message(sink: SmtpSink) -> None:
    calls: list[tuple[str, int]] = []

    async def journal(reply: str) -> None:
        calls.append((reply, len(sink.messages)))

    reply = asyncio.run(send_message(sink.settings(), _msg(), on_accepted=journal))
    assert calls == [(reply, 1)]


def test_the_journal_hook_does_not_run_for_a_refused_message() -> None:
    calls: list[str] = []

    async def journal(reply: str) -> None:
        calls.append(reply)

    with SmtpSink(data_reply="451 4.3.0 try again later") as sink, pytest.raises(SendError):
        asyncio.run(send_message(sink.settings(), _msg(), on_accepted=journal))
    assert calls == []
