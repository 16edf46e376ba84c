"""Building one outgoing email, safely, from text that was already rendered.

Header values often carry text the user does not control (a job name, a PBS comment), so every
control character (CR and LF above all) is collapsed to a space: "evil\\r\\nBcc: x@y" in a job
name ends up as literal text in the Subject, never as a header of its own. Nothing here renders
templates: `{{ ... }}` that reaches this module is text and stays text.

The Message-ID comes from the intent's idempotency key, so a resend after a crash carries the same
Message-ID and mail systems can recognise the duplicate.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

# C0/C1 controls, DEL and the Unicode line/paragraph separators `str.splitlines` honours.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'
# Headers build_message sets itself; extra headers may not replace them.
_RESERVED = frozenset(
    {
        *("from", "sender", "to", "cc", "bcc", "reply-to", "subject", "message-id", "date"),
        *("mime-version", "content-type", "content-transfer-encoding", "auto-submitted"),
    }
)
# A non-ASCII local part is fine for servers that speak SMTPUTF8; anything else is garbage.
_TOLERATED_DEFECTS = (errors.NonASCIILocalPartDefect,)


class MessageError(ValueError):
    """The message cannot be built (a bad address, a bad header name): retrying will not help."""


def clean_header(text: str) -> str:
    """Collapse every run of control characters to one space, so a value stays one header."""
    return _CONTROL.sub(" ", str(text)).strip()


def clean_body(text: str) -> str:
    """Normalise line endings to LF and drop control characters other than LF and TAB."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _BODY_CONTROL.sub("", text)


def parse_addresses(value: str | Sequence[str], *, field: str = "to") -> list[Address]:
    """Parse one address, a comma-separated list, or a list of those; reject anything unclear."""
    items = [value] if isinstance(value, str) else list(value)
    found: list[Address] = []
    for item in items:
        found.extend(_parse_one(clean_header(item), field))
    if not found:
        raise MessageError(f"{field}: no email address given")
    return found


def _parse_one(text: str, field: str) -> list[Address]:
    try:
        header = policy.default.header_factory("to", text)  # any address-list header
    except Exception as exc:  # the parser raises IndexError etc. on some garbage
        raise MessageError(f"{field}: not an email address: {text!r}") from exc
    defects = [d for d in header.defects if not isinstance(d, _TOLERATED_DEFECTS)]
    bad = [a for a in header.addresses if not (a.username and a.domain)]
    if defects or bad or (text and not header.addresses):
        raise MessageError(f"{field}: not an email address: {text!r}")
    return list(header.addresses)


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID that depends only on the idempotency key (and the sender's domain)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@watcher.{clean_header(domain).strip('.') or 'localhost'}>"


# RFC 5322's hard line limit: the default 78 made Python fold a long Subject right after the
# colon, and readers then showed it with a leading space.
_POLICY = policy.default.clone(max_line_length=998)


def build_message(
    *,
    sender: str,
    to: str | Sequence[str],
    subject: str,
    body: str,
    message_id: str,
    cc: str | Sequence[str] = (),
    reply_to: str | None = None,
    date: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """Assemble a plain-text message; raises MessageError for bad addresses or header names."""
    msg = EmailMessage(policy=_POLICY)
    (from_address,) = _single(sender, "from")
    msg["From"] = from_address
    msg["To"] = parse_addresses(to, field="to")
    if cc:
        msg["Cc"] = parse_addresses(cc, field="cc")
    if reply_to:
        msg["Reply-To"] = parse_addresses(reply_to, field="reply_to")
    msg["Subject"] = clean_header(subject)
    msg["Message-ID"] = clean_header(message_id)
    if date is not None:
        msg["Date"] = format_datetime(date)
    # RFC 3834: tells vacation responders and mailing lists not to answer a robot.
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[_header_name(name)] = clean_header(value)
    msg.set_content(clean_body(body))
    return msg


def _single(value: str, field: str) -> list[Address]:
    addresses = parse_addresses(value, field=field)
    if len(addresses) != 1:
        raise MessageError(f"{field}: expected one address, got {len(addresses)}")
    return addresses


def _header_name(name: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise MessageError(f"header name {name!r} is not valid")
    if name.lower() in _RESERVED:
        raise MessageError(f"header {name!r} is set by watcher and cannot be overridden")
    return name


def domain_of(address: str) -> str:
    """The domain of an address (`watcher@login1.example.org` -> `login1.example.org`)."""
    return _single(address, "from")[0].domain
