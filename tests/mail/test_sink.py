"""The loopback sink: a free port, messages in memory and on disk, waiting, and a clean stop."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from watcher.mail.message import build_message, message_id_for
from watcher.mail.send import send_message
from watcher.mail.sink import SmtpSink


def _send(sink: SmtpSink, subject: str, to: str = "alice@example.org") -> None:
    msg = build_message(
        sender="watcher@localhost",
        to=to,
        subject=subject,
        body="hello\n",
        message_id=message_id_for(subject, "localhost"),
    )
    asyncio.run(send_message(sink.settings(), msg))


def test_binds_a_free_loopback_port_and_releases_it_on_exit() -> None:
    with SmtpSink() as sink:
        host, port = sink.host, sink.port
        assert host == "127.0.0.1" and port > 0
    with pytest.raises(ConnectionRefusedError), socket.create_connection((host, port), 1):
        pass


def test_two_sinks_run_side_by_side() -> None:
    with SmtpSink() as one, SmtpSink() as two:
        assert one.port != two.port
        _send(two, "to two")
        assert [m.message["Subject"] for m in two.messages] == ["to two"]
        assert one.messages == []


def test_messages_are_written_as_eml_files_with_their_envelope(tmp_path: Path) -> None:
    with SmtpSink(directory=tmp_path / "mail") as sink:
        _send(sink, "first")
        _send(sink, "second", to="bob@example.org")
        received = sink.messages
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert [r.path for r in received] == files
    assert not list((tmp_path / "mail").glob("*.tmp"))
    parsed = message_from_bytes(files[1].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "second"
    assert parsed["Delivered-To"] == "bob@example.org"
    assert parsed["Return-Path"] == "<watcher@localhost>"


def test_wait_for_returns_once_enough_messages_arrived() -> None:
    with SmtpSink() as sink:
        sender = threading.Thread(target=_send, args=(sink, "later"))
        sender.start()
        try:
            [got] = sink.wait_for(1, timeout=10)
        finally:
            sender.join()
        assert got.message["Subject"] == "later"


def test_wait_for_says_how_many_arrived_when_it_gives_up() -> None:
    with SmtpSink() as sink:
        _send(sink, "only one")
        with pytest.raises(TimeoutError, match="expected 2 messages, got 1"):
            sink.wait_for(2, timeout=0.05)
