"""Building messages: headers stay headers, hostile text stays text, Message-IDs are stable."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from watcher.mail.message import (
    MessageError,
    build_message,
    clean_header,
    domain_of,
    message_id_for,
    parse_addresses,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _build(**overrides: object) -> EmailMessage:
    fields: dict[str, object] = {
        "sender": "Watcher <watcher@login1.example.org>",
        "to": "alice@example.org",
        "subject": "job 12.srv finished",
        "body": "all good\n",
        "message_id": message_id_for("rule:pbs_job:12.srv:t0", "login1.example.org"),
        "date": NOW,
    }
    fields.update(overrides)
    return build_message(**fields)  # type: ignore[arg-type]


def _wire(msg: EmailMessage) -> EmailMessage:
    """What a receiver parses: the message as SMTP bytes, read back with local line endings."""
    raw = msg.as_bytes(policy=policy.SMTP).replace(b"\r\n", b"\n")
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_headers_and_body_survive_the_wire() -> None:
    got = _wire(_build(cc=["bob@example.org"], reply_to="ops@example.org"))
    assert got["From"] == "Watcher <watcher@login1.example.org>"
    assert got["To"] == "alice@example.org"
    assert got["Cc"] == "bob@example.org"
    assert got["Reply-To"] == "ops@example.org"
    assert got["Subject"] == "job 12.srv finished"
    assert got["Date"] == "Mon, 23 Nov 2026 09:30:00 +0000"
    assert got["Auto-Submitted"] == "auto-generated"
    assert got.get_content() == "all good\n"


def test_crlf_in_subject_is_literal_text_not_a_header() -> None:
    got = _wire(_build(subject="job evil\r\nBcc: x@y\r\n\r\nbody? {{ 7*7 }}"))
    assert got["Subject"] == "job evil Bcc: x@y body? {{ 7*7 }}"
    assert got["Bcc"] is None
    assert got.get_content() == "all good\n"


def test_every_control_character_in_a_header_becomes_a_space() -> None:
    assert clean_header("a\x00b\x1bc\x7fd\u2028e\x85f\tg\n") == "a b c d e f g"


def test_extra_header_values_are_cleaned_too() -> None:
    got = _wire(_build(headers={"X-Watcher-Rule": "r1\nBcc: x@y"}))
    assert got["X-Watcher-Rule"] == "r1 Bcc: x@y"
    assert got["Bcc"] is None


@pytest.mark.parametrize("name", ["Bcc", "subject", "Message-ID", "X Bad", "X:Bad", "X\nY", ""])
def test_extra_headers_cannot_replace_or_smuggle(name: str) -> None:
    with pytest.raises(MessageError):
        _build(headers={name: "v"})


def test_long_and_non_ascii_subjects_round_trip() -> None:
    subject = "Jöb " + "x" * 120 + " {{ 7*7 }}"
    assert _wire(_build(subject=subject))["Subject"] == subject


def test_body_line_endings_and_controls_are_normalised() -> None:
    got = _wire(_build(body="one\r\ntwo\rthree\x07\n\tfour\n.\n"))
    assert got.get_content() == "one\ntwo\nthree\n\tfour\n.\n"


def test_message_id_depends_only_on_the_key() -> None:
    first = message_id_for("key-1", "example.org")
    assert first == message_id_for("key-1", "example.org")
    assert first != message_id_for("key-2", "example.org")
    assert first.startswith("<") and first.endswith("@watcher.example.org>")
    assert len(first.split("@")[0]) == 33  # "<" + 32 hex digits


def test_message_id_header_is_the_given_one() -> None:
    expected = message_id_for("rule:pbs_job:12.srv:t0", "login1.example.org")
    assert _wire(_build())["Message-ID"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@b.c", ["a@b.c"]),
        ("Alice <a@b.c>, b@x.y", ["a@b.c", "b@x.y"]),
        (["a@b.c", '"Smith, J" <j@x.y>'], ["a@b.c", "j@x.y"]),
        ("user@login1", ["user@login1"]),
    ],
)
def test_good_addresses_parse(value: str | list[str], expected: list[str]) -> None:
    assert [a.addr_spec for a in parse_addresses(value)] == expected


@pytest.mark.parametrize(
    "value",
    [
        "not an address",
        "a@",
        "@",
        "<>",
        "",
        [],
        "a@b.c\r\nBcc: x@y",
        "a@b.c; rm -rf /",
        "undisclosed-recipients:;",
        "a b@c.d",
    ],
)
def test_garbage_addresses_are_rejected_clearly(value: str | list[str]) -> None:
    with pytest.raises(MessageError, match=r"^to: "):
        parse_addresses(value)


def test_sender_must_be_exactly_one_address() -> None:
    with pytest.raises(MessageError, match="from: expected one address"):
        _build(sender="a@b.c, d@e.f")
    assert domain_of("Watcher <w@login1.example.org>") == "login1.example.org"


def test_a_long_subject_arrives_without_a_leading_space() -> None:
    from email import message_from_bytes
    from email import policy as email_policy

    subject = "[watcher] wf-434af2 (C-credentials): Globus needs you to re-authenticate"
    msg = build_message(sender="w@x.org", to="a@b.org", subject=subject, body="b",
                        message_id="<a@b>")
    assert message_from_bytes(msg.as_bytes(), policy=email_policy.default)["Subject"] == subject
