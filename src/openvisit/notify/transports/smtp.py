"""E-mail over SMTP (aiosmtplib), through a few connections kept open per process.

One message is one mail transaction (MAIL FROM, RCPT TO, DATA) on a pooled connection;
the pool holds at most `OPENVISIT_SMTP_CONNECTIONS` clients, each used by one send at a
time. A connection is opened with the chosen security: implicit TLS, STARTTLS (which
must then be offered: the transport never falls back to plain text) or none, and logs
in with AUTH when a user name is set.

A server may close a connection that sat idle (a timeout, a restart, "421 closing"). A
reused connection that fails before the server took anything (at MAIL FROM) is replaced
and the message is sent once more on a new one; any other failure is reported.

How failures count (transports/base.py):

- 5xx to RCPT TO or DATA: this recipient or this message is refused, PermanentFailure
  with the code and text (552 to MAIL FROM, the message too large, too).
- 4xx anywhere, a refused, reset or silent connection, a timeout: TransientFailure.
- The login refused (535), STARTTLS or AUTH not offered, a certificate that does not
  verify, 5xx to MAIL FROM (the sender is not allowed): TransientFailure with the
  setting to check. Nothing is wrong with the message; the operator's fix lets it go,
  and the dispatcher's attempt cap ends it if nobody fixes the settings.

A timeout after the message was handed over is ambiguous (the server may have queued
it); the retry carries the same Message-ID, which lets mail clients show it once.
Receipt.provider_id is the server's queue id from its answer to DATA, when it names one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aiosmtplib
from aiosmtplib import SMTPResponse

from openvisit.clock import Clock, SystemClock
from openvisit.notify.messages import EmailMessage, Receipt
from openvisit.notify.transports.base import DeliveryFailure, PermanentFailure, TransientFailure
from openvisit.notify.transports.closing import ClosingTransports
from openvisit.notify.transports.mime import (
    POLICY,
    Sender,
    build_mime,
    envelope,
    masked,
    needs_smtputf8,
)
from openvisit.notify.transports.provider_http import (
    NotConfigured,
    clock_option,
    shorten,
)
from openvisit.notify.transports.smtp_config import SmtpConfig, config_from, options_problem

log = logging.getLogger(__name__)

CREDENTIALS_HINT: Final = "check OPENVISIT_SMTP_USERNAME and OPENVISIT_SMTP_PASSWORD"
CA_HINT: Final = "for a private CA set OPENVISIT_SMTP_CA_FILE"
CLOSING: Final = 421  # "service not available, closing transmission channel"
TOO_LARGE: Final = 552
# How long the pool's close waits for QUIT's answer, and then for the TLS close: each
# step at most this long, or the configured timeout when that is shorter.
CLOSE_SECONDS: Final = 2.0
# Queue ids as Postfix ("queued as 4Bx9"), Exim ("id=1qAbc-000123-Xy") and Gmail
# ("OK  1700000000 a1si123.45 - gsmtp") report them.
QUEUE_ID: Final = re.compile(
    r"queued as ([^\s;,]+)|\bid=([^\s;,]+)|^\S+ OK\s+\d+ (\S+) - gsmtp", re.IGNORECASE
)


def from_options(values: Mapping[str, object]) -> SmtpTransport:
    """The transport from settings by field name (`smtp_*`; SecretStr or plain text)
    and an optional "clock"; NotConfigured when incomplete."""
    problem = options_problem(values)
    if problem is not None:
        raise NotConfigured(problem)
    return SmtpTransport(config_from(values), clock=clock_option(values))


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes
    smtputf8: bool


class SmtpTransport:
    """An EmailTransport (transports/base.py) over SMTP."""

    name = "smtp"

    def __init__(self, config: SmtpConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._sender = Sender(config.from_address, config.from_name)
        self._pool = ConnectionPool(config, tls_context(config))

    async def send_email(self, message: EmailMessage) -> Receipt:
        letter = self._envelope(message)
        try:
            response = await self._pool.send(letter)
        except DeliveryFailure:
            raise
        except (aiosmtplib.SMTPException, OSError) as error:
            raise failure_of(error, letter.recipient, self._config) from error
        return receipt_of(response)

    async def close(self) -> None:
        await self._pool.close()

    def _envelope(self, message: EmailMessage) -> Envelope:
        try:
            recipient = envelope(message.to_address)
            mime = build_mime(message, sender=self._sender, date=self._clock.now())
        except ValueError as error:
            reason = str(error).replace(message.to_address, masked(message.to_address))
            raise PermanentFailure(f"the message cannot be written: {reason}") from error
        utf8 = needs_smtputf8(recipient) or needs_smtputf8(self._config.from_address)
        data = mime.as_bytes(policy=POLICY.clone(utf8=True) if utf8 else POLICY)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"  # DATA ends with CRLF "." CRLF; the last line needs its CRLF
        return Envelope(self._config.from_address, recipient, data, utf8)


def tls_context(config: SmtpConfig) -> ssl.SSLContext | None:
    """The client context: the system's trust (TLS 1.2 and up, host names checked), and
    the configured CA file besides; None when the connection is plain."""
    if config.security == "none":
        return None
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Python's default too; stated here
    if config.ca_file:
        try:
            context.load_verify_locations(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as error:
            raise NotConfigured(
                f"OPENVISIT_SMTP_CA_FILE ({config.ca_file}) holds no usable PEM certificates: "
                f"{error}"
            ) from error
    return context


class ConnectionPool:
    """Up to `config.connections` connected clients on the running event loop.

    A send takes a place (the semaphore), then an idle client or a new connection, and
    hands the client back only when its transaction ended cleanly; a client whose send
    was cancelled or broke mid-way is closed, since its conversation state is unknown.
    Every client it closes is watched until its socket is closed (transports/closing.py),
    and `close` waits for that, so no socket outlives the pool's close.
    Clients belong to the loop that opened them: a pool used from a new loop (a
    dispatcher restarted in the same process) starts afresh there.
    """

    def __init__(self, config: SmtpConfig, context: ssl.SSLContext | None) -> None:
        self._config = config
        self._context = context
        self._idle: list[aiosmtplib.SMTP] = []
        self._closing = ClosingTransports()
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(self, letter: Envelope) -> SMTPResponse:
        async with self._bind():
            client = self._idle.pop() if self._idle else None
            if client is not None and not client.is_connected:
                # The server hung up while it was idle: release its transport too, or
                # it lingers half-closed until the garbage collector finds it.
                self._discard(client)
                client = None
            client, response = await self._transact(client, letter)
            self._idle.append(client)
            return response

    async def close(self) -> None:
        """QUIT every idle connection, then wait until each connection the pool closed
        has closed its socket: a TLS one waits for the server's close_notify, and a
        server that never sends it is cut after the bound. The loop may end right after
        (asyncio.run), and a transport still closing then would be left to the garbage
        collector, which warns in whatever code runs next."""
        idle, self._idle = self._idle, []
        if self._loop is not asyncio.get_running_loop():
            for client in idle:
                with contextlib.suppress(RuntimeError):  # a client of a loop that has ended
                    client.close()
            return
        bound = min(CLOSE_SECONDS, self._config.timeout_seconds)
        try:
            for client in idle:
                self._closing.adopt(client.transport)  # QUIT closes it when answered
                if client.is_connected:
                    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                        await client.quit(timeout=bound)
        finally:
            for client in idle:
                self._discard(client)
            await self._closing.wait_closed(bound)

    def _discard(self, client: aiosmtplib.SMTP) -> None:
        """Close `client`; `close` sees its transport out."""
        self._closing.adopt(client.transport)
        client.close()

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            # Clients of an ended loop can neither be used nor closed from this one.
            self._idle, self._loop = [], loop
            self._closing = ClosingTransports()
            self._slots = asyncio.Semaphore(self._config.connections)
        return self._slots

    async def _transact(
        self, client: aiosmtplib.SMTP | None, letter: Envelope
    ) -> tuple[aiosmtplib.SMTP, SMTPResponse]:
        reused = client is not None
        if client is None:
            client = await self._connect()
        try:
            try:
                await _mail_from(client, letter)
            except (ConnectionError, aiosmtplib.SMTPResponseException) as error:
                if not reused or not _closed_on_us(error):
                    raise
                # Nothing was handed over yet: a new connection may send it once more.
                log.info("smtp: the server closed an idle connection (%s); reconnecting", error)
                self._discard(client)
                client = await self._connect()
                await _mail_from(client, letter)
            await client.rcpt(letter.recipient, encoding=_encoding(letter))
            response = await client.data(letter.data)
        except aiosmtplib.SMTPResponseException as error:
            await self._keep_if_usable(client, error)
            raise
        except BaseException:
            self._discard(client)
            raise
        return client, response

    async def _keep_if_usable(
        self, client: aiosmtplib.SMTP, error: aiosmtplib.SMTPResponseException
    ) -> None:
        # A refused recipient leaves a healthy connection; RSET clears the envelope.
        if error.code == CLOSING or not client.is_connected:
            self._discard(client)
            return
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            self._discard(client)
            return
        self._idle.append(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.effective_port,
            use_tls=config.security == "tls",
            start_tls=False,  # upgraded below, so that a missing STARTTLS is refused
            timeout=config.timeout_seconds,
            tls_context=self._context,
        )
        try:
            await client.connect()
            if config.security == "starttls":
                await _upgrade(client, config)
            if config.username:
                await _log_in(client, config)
        except BaseException:
            self._discard(client)
            raise
        return client


async def _upgrade(client: aiosmtplib.SMTP, config: SmtpConfig) -> None:
    await client.ehlo()
    if not client.supports_extension("starttls"):
        raise TransientFailure(
            f"the SMTP server {config.host}:{config.effective_port} does not offer STARTTLS, "
            "which OPENVISIT_SMTP_SECURITY=starttls requires; nothing was sent in clear"
        )
    await client.starttls()
    await client.ehlo()  # RFC 3207: what the server offered before TLS no longer counts


async def _log_in(client: aiosmtplib.SMTP, config: SmtpConfig) -> None:
    if client.last_ehlo_response is None:
        await client.ehlo()
    if not client.supports_extension("auth"):
        raise TransientFailure(
            f"the SMTP server {config.host}:{config.effective_port} offers no AUTH; "
            "unset OPENVISIT_SMTP_USERNAME if it needs no login"
        )
    await client.login(config.username or "", config.password or "")


async def _mail_from(client: aiosmtplib.SMTP, letter: Envelope) -> None:
    options = []
    if client.supports_extension("size"):
        options.append(f"SIZE={len(letter.data)}")
    if letter.smtputf8:
        if not client.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported(
                "the address has non-ASCII characters and the server lacks SMTPUTF8"
            )
        options.append("SMTPUTF8")
    await client.mail(letter.sender, options=options, encoding=_encoding(letter))


def _encoding(letter: Envelope) -> str:
    return "utf-8" if letter.smtputf8 else "ascii"


def _closed_on_us(error: BaseException) -> bool:
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code == CLOSING
    return isinstance(error, ConnectionError)


def receipt_of(response: SMTPResponse) -> Receipt:
    found = QUEUE_ID.search(response.message)
    queue_id = next((group for group in found.groups() if group), None) if found else None
    return Receipt(provider_id=queue_id, detail=shorten(f"SMTP {response.code} {response.message}"))


def failure_of(error: BaseException, recipient: str, config: SmtpConfig) -> DeliveryFailure:
    """How an aiosmtplib or socket error counts (see the module's docstring)."""
    server = f"{config.host}:{config.effective_port}"
    tls_error = _tls_error(error)
    if tls_error is not None:
        return TransientFailure(f"TLS with the SMTP server {server} failed: {tls_error}; {CA_HINT}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _answer_failure(error, recipient)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return PermanentFailure(f"the SMTP server cannot take this message: {error}")
    if isinstance(error, aiosmtplib.SMTPConnectTimeoutError):
        return TransientFailure(
            f"the SMTP server {server} did not answer within {config.timeout_seconds:g} s "
            "while connecting; nothing was sent"
        )
    if isinstance(error, TimeoutError):
        return TransientFailure(
            f"the SMTP server {server} did not answer within {config.timeout_seconds:g} s "
            f"({type(error).__name__}); it may or may not have taken the message"
        )
    return TransientFailure(f"could not reach the SMTP server {server}: {error}")


def _answer_failure(error: aiosmtplib.SMTPResponseException, recipient: str) -> DeliveryFailure:
    text = " ".join(error.message.replace(recipient, masked(recipient)).split())
    code = error.code
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        # Transient on purpose: a wrong password is the operator's to fix, and once they
        # have, the messages that waited go out; failing them would lose every message
        # of the meantime. The attempt cap ends them if nobody does.
        return TransientFailure(shorten(f"SMTP login refused: {code} {text}; {CREDENTIALS_HINT}"))
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        named = shorten(f"SMTP {code} to MAIL FROM: {text}")
        if code == TOO_LARGE:
            return PermanentFailure(named)
        if 500 <= code < 600:
            return TransientFailure(f"{named}; check OPENVISIT_SMTP_FROM_ADDRESS")
        return TransientFailure(named)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        step = "RCPT TO"
    elif isinstance(error, aiosmtplib.SMTPDataError):
        step = "DATA"
    else:  # the greeting, EHLO, STARTTLS: the server's state, not this message's
        return TransientFailure(shorten(f"SMTP {code}: {text}"))
    named = shorten(f"SMTP {code} to {step}: {text}")
    return PermanentFailure(named) if 500 <= code < 600 else TransientFailure(named)


def _tls_error(error: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
