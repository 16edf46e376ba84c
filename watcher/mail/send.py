"""Sending one message over SMTP, and telling passing failures from permanent ones.

Retryable: the server cannot be reached, a timeout, a dropped connection, any 4xx reply.
Permanent: any 5xx reply (550 mailbox unavailable, 535 bad credentials), a server without the
STARTTLS or AUTH the settings ask for, a certificate that does not verify, a missing password.
Retrying those would only repeat the failure, so the intent is marked dead and shown to the user.

Certificates are checked against the system trust store; a site whose relay uses its own CA
points `SSL_CERT_FILE` at that CA's certificate (OpenSSL reads it; the tests do the same).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib

from watcher.failpoints import failpoint, shielded
from watcher.mail.settings import SmtpSettings


class SendError(Exception):
    """Sending failed; `retryable` says whether trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


async def send_message(settings: SmtpSettings, msg: EmailMessage, *,
                       on_accepted: Callable[[str], Awaitable[None]] | None = None) -> str:
    """Send `msg` to its To and Cc recipients; return the server's reply to the message.

    Recipients the server refused while accepting others are named in the returned text: the
    message was delivered, so retrying would send it again to everyone else. `on_accepted`
    (the caller's journal) runs as soon as the server accepted the message, before QUIT, so the
    stretch in which a crash would send it again is as short as SMTP allows; a failure after
    acceptance (QUIT reset) is no failure to send.
    """
    password = _password(settings)
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",  # False for "none": no opportunistic TLS
        username=settings.username,
        password=password,
        timeout=settings.timeout,
    )
    accepted: str | None = None
    try:
        async with client:  # connect, EHLO, STARTTLS and AUTH as the settings ask
            failpoint("mid-email")  # a crash test dies here: connected, message not yet sent
            with shielded():  # from DATA until the journal knows: see watcher.failpoints
                accepted = _reply_text(*await client.send_message(msg))
                failpoint("email-accepted")
                if on_accepted is not None:
                    await on_accepted(accepted)
    except (aiosmtplib.SMTPException, OSError) as exc:
        if accepted is None:
            raise _classify(exc, f"{settings.host}:{settings.port}") from exc
    assert accepted is not None
    return accepted


def _reply_text(refused: dict[str, aiosmtplib.SMTPResponse], reply: str) -> str:
    if not refused:
        return reply
    listed = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in refused.items())
    return f"{reply} (refused {listed})"


def _classify(exc: BaseException, where: str) -> SendError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        # If any refusal was temporary, a retry may still reach that recipient.
        retry = any(_is_4xx(r.code) for r in exc.recipients)
        return SendError(f"{where} refused every recipient: {detail}", retryable=retry)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"{where}: {exc.code} {exc.message}", retryable=_is_4xx(exc.code))
    # aiosmtplib raises the bare base class for what the server lacks (STARTTLS, AUTH, a usable
    # AUTH mechanism): a settings mismatch. Its subclasses (timeouts, disconnects) may pass.
    if type(exc) is aiosmtplib.SMTPException or isinstance(exc, aiosmtplib.SMTPNotSupported):
        return SendError(f"{where}: {exc}", retryable=False)
    if _certificate_failure(exc):
        return SendError(f"{where}: TLS certificate not trusted: {exc}", retryable=False)
    # Refused connection, timeout, dropped connection: the server may be back later.
    return SendError(f"{where}: {exc or type(exc).__name__}", retryable=True)


def _certificate_failure(exc: BaseException | None) -> bool:
    """aiosmtplib may wrap the ssl error in its own; look down the chain."""
    for _ in range(10):  # a bound, in case a chain loops
        if exc is None:
            return False
        if isinstance(exc, ssl.SSLCertVerificationError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _password(settings: SmtpSettings) -> str | None:
    """The login password; a username without one is a configuration error, not a retry."""
    if settings.username is None:
        return None
    try:
        password = settings.password()
    except OSError as exc:
        raise SendError(f"smtp.password_file: cannot read: {exc}", retryable=False) from exc
    if password is None:
        source = (
            f"environment variable {settings.password_env!r} is not set"
            if settings.password_env
            else "set smtp.password_env or smtp.password_file"
        )
        raise SendError(f"smtp.username is set but there is no password: {source}", retryable=False)
    return password


def _is_4xx(code: int) -> bool:
    return 400 <= code < 500
