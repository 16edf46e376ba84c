"""A loopback SMTP server that keeps what it receives: for tests and for `watcher demo`.

It is a real SMTP server (aiosmtpd) on 127.0.0.1, so the watcher's mail path is exercised over a
real socket, TLS and AUTH included, with no mocks. It can also refuse: a recipient mapped in
`refuse` gets that reply to RCPT (e.g. "550 5.1.1 mailbox unavailable"), and `data_reply` answers
every DATA (e.g. "451 4.3.0 try again later"), so failure handling can be shown, not assumed.

    with SmtpSink(directory=Path("mail")) as sink:
        await send_message(sink.settings(), msg)
        [received] = sink.wait_for(1)
"""

from __future__ import annotations

import ssl
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from watcher.mail.settings import SmtpSettings


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message: its envelope, the parsed message (LF line endings) and raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    login: str | None = None
    path: Path | None = None


class _FreePortController(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's start-up self-check uses it."""

    def _create_server(self) -> Any:
        return self._bind()

    async def _bind(self) -> Any:
        server = await super()._create_server()
        self.port = server.sockets[0].getsockname()[1]
        return server


class SmtpSink:
    """An SMTP server on 127.0.0.1 that stores messages in memory and, optionally, as .eml files.

    `starttls` offers (and requires) STARTTLS with that server context; `tls` makes the port
    implicit TLS. `credentials` (user -> password) turns on AUTH and requires it.
    """

    def __init__(
        self,
        *,
        directory: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        refuse: Mapping[str, str] | None = None,
        data_reply: str | None = None,
        starttls: ssl.SSLContext | None = None,
        tls: ssl.SSLContext | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.refuse = {k.lower(): v for k, v in (refuse or {}).items()}
        self.data_reply = data_reply
        self._credentials = dict(credentials) if credentials is not None else None
        self._messages: list[ReceivedMessage] = []
        self._arrived = threading.Condition()
        self._security = "tls" if tls else "starttls" if starttls else "none"
        self._controller = _FreePortController(
            _Handler(self),
            hostname=host,
            port=port,
            ssl_context=tls,
            server_hostname="localhost",  # skips a reverse DNS lookup (getfqdn) per session
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=self._authenticate if credentials is not None else None,
            # Loopback only: AUTH without TLS is allowed so tests can cover it in every mode.
            # It is enforced at DATA (see _Handler) rather than with aiosmtpd's auth_required,
            # which warns about exactly this combination.
            auth_require_tls=False,
        )

    @property
    def requires_login(self) -> bool:
        """Whether the sink has credentials, so it refuses mail from a client not logged in."""
        return self._credentials is not None

    @property
    def host(self) -> str:
        """The loopback address the sink listens on."""
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        """The TCP port, chosen by the OS when 0 was asked for."""
        return int(self._controller.port)

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A copy of the messages received so far, in arrival order."""
        with self._arrived:
            return list(self._messages)

    def start(self) -> SmtpSink:
        """Start listening (creating `directory` when given); returns self for chaining."""
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening; messages already received stay readable."""
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def settings(self, **overrides: Any) -> SmtpSettings:
        """SMTP settings that point at this sink (the sender defaults to watcher@localhost)."""
        fields: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": self._security,
            "from": "watcher@localhost",
            "timeout": 10.0,
        }
        return SmtpSettings.model_validate({**fields, **overrides})

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages arrived; TimeoutError names how many did."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"expected {count} messages, got {len(self._messages)}")
            return list(self._messages)

    def keep(self, mail_from: str, rcpt_tos: list[str], raw: bytes, login: str | None) -> None:
        """Store one accepted message (the SMTP handler calls this for each DATA)."""
        parsed = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        path = self._write(mail_from, rcpt_tos, raw) if self.directory is not None else None
        received = ReceivedMessage(
            mail_from,
            tuple(rcpt_tos),
            parsed,
            raw,
            login,
            path,  # type: ignore[arg-type]
        )
        with self._arrived:
            self._messages.append(received)
            self._arrived.notify_all()

    def _write(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> Path:
        """Write atomically (temp file, then rename) so a reader never sees half a message."""
        assert self.directory is not None
        # Return-Path and Delivered-To, as a delivery agent adds them: Bcc recipients show up.
        envelope = f"Return-Path: <{mail_from}>\r\n" + "".join(
            f"Delivered-To: {rcpt}\r\n" for rcpt in rcpt_tos
        )
        name = f"{datetime.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.encode() + raw)
        tmp.replace(path)
        return path

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self._credentials is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self._credentials.get(login) == password
        # handled=False makes aiosmtpd send the 535 reply; auth_data lands on the session.
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


class _Handler:
    """aiosmtpd hooks: refuse recipients or DATA on request, keep everything else."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self._sink.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._sink.requires_login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self._sink.data_reply:
            return self._sink.data_reply
        raw = envelope.original_content or envelope.content
        login = session.auth_data if session.authenticated else None
        self._sink.keep(envelope.mail_from, list(envelope.rcpt_tos), bytes(raw), login)
        return "250 Message accepted for delivery"
