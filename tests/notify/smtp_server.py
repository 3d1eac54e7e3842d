"""A real SMTP server (aiosmtpd) on loopback for the SMTP transport's tests, and a
throwaway certificate authority for its TLS.

`Sink` records every message with the connection (aiosmtpd session) it came over and
answers MAIL, RCPT and DATA as a test scripts it; `smtp_server` runs it on an ephemeral
port of 127.0.0.1 in aiosmtpd's own thread.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live import free_port

QUEUE_ID = "4Bx9QK1z"
USER, PASSWORD = "visits@example.org", "correct horse battery staple"


@dataclass(frozen=True)
class Received:
    session: Any  # the aiosmtpd Session: one per connection
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool

    @property
    def message(self) -> email.message.EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed


@dataclass
class Sink:
    """An aiosmtpd handler. `mail_replies`/`rcpt_replies` are answers given, in turn,
    instead of accepting (first come, first used); `data_reply` answers every DATA."""

    mail_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_reply: str = f"250 2.0.0 Ok: queued as {QUEUE_ID}"
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, login)

    async def handle_MAIL(
        self, _server: Any, _session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: list[str]
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        if not self.data_reply.startswith("250"):
            return self.data_reply
        content = envelope.original_content or envelope.content
        self.received.append(
            Received(
                session,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                content,
                session.ssl is not None,
            )
        )
        return self.data_reply

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode()
        self.logins.append((mechanism, login))
        accepted = (login, auth_data.password.decode()) == (USER, PASSWORD)
        # handled=False: aiosmtpd answers a refusal with its 535 (True: we would reply).
        return AuthResult(success=accepted, handled=False)

    @property
    def connections(self) -> int:
        """Connections that carried a message (sessions are per connection)."""
        sessions: list[Any] = []
        for item in self.received:
            if not any(item.session is seen for seen in sessions):
                sessions.append(item.session)
        return len(sessions)


@contextmanager
def smtp_server(sink: Sink, *, stall_close: bool = False, **smtp_options: Any) -> Iterator[int]:
    """Serve `sink` on 127.0.0.1 and yield the port. `smtp_options` go to aiosmtpd's
    SMTP (tls_context for STARTTLS, timeout, authenticator, ...); `ssl_context` makes
    it implicit TLS. `stall_close`: the server answers QUIT and then leaves the
    connection open and unread, so a TLS client's close_notify is never answered."""
    port = free_port()
    controller = (StallingController if stall_close else Controller)(
        sink, hostname="127.0.0.1", port=port, **smtp_options
    )
    controller.start()
    try:
        yield port
    finally:
        if isinstance(controller, StallingController):
            controller.end_stalled()
        controller.stop()


class StallingSmtp(SMTP):
    """Says "221 Bye" to QUIT and then neither closes nor reads any more: the client's
    TLS close_notify stays in the server's buffer, unanswered, as from a server (or a
    firewall in between) that stalls."""

    def __init__(self, *args: Any, stalled: list[StallingSmtp], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stalled = stalled
        self.gone = threading.Event()

    async def smtp_QUIT(self, arg: str) -> None:
        if arg or self.transport is None:
            await super().smtp_QUIT(arg)
            return
        await self.push("221 Bye")
        assert isinstance(self.transport, asyncio.ReadTransport)
        self.transport.pause_reading()
        self._stalled.append(self)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.gone.set()


class StallingController(Controller):
    def __init__(self, handler: Any, **options: Any) -> None:
        super().__init__(handler, **options)
        self.stalled: list[StallingSmtp] = []

    def factory(self) -> StallingSmtp:
        return StallingSmtp(self.handler, stalled=self.stalled, **self.SMTP_kwargs)

    def end_stalled(self) -> None:
        """Cut the stalled connections (on the server's loop) and wait until they are
        gone, so that no server socket outlives the test either."""
        for server in self.stalled:
            transport = server.transport
            if isinstance(transport, asyncio.WriteTransport):
                self.loop.call_soon_threadsafe(transport.abort)
        for server in self.stalled:
            assert server.gone.wait(timeout=5), "a stalled server connection did not end"


@contextmanager
def silent_server() -> Iterator[int]:
    """A server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_pki(folder: Path) -> Pki:
    """A CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenVisit test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    alt_names = [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        _builder(name, ca_name, key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
