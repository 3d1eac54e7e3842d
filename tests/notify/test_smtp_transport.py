"""The SMTP transport against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS
and implicit TLS, AUTH, how refusals count, and the connections it keeps."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from openvisit.clock import FixedClock
from openvisit.notify.messages import Attachment, EmailMessage, Receipt
from openvisit.notify.transports.base import DeliveryFailure, PermanentFailure, TransientFailure
from openvisit.notify.transports.smtp import SmtpTransport, from_options
from tests.conftest import TEST_NOW
from tests.live import free_port
from tests.notify.smtp_server import (
    PASSWORD,
    QUEUE_ID,
    USER,
    Pki,
    Sink,
    make_pki,
    silent_server,
    smtp_server,
)

INVITE = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OpenVisit//EN\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:a1@openvisit.test\r\nSUMMARY:Visit with Dr. Ann\r\n"
    b"DTSTART:20261124T150000Z\r\nDTEND:20261124T153000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
LEAFLET = b"%PDF-1.4 a leaflet"


def letter(number: int = 1, **changes: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "to_address": "ann.customer@example.test",
        "to_name": "Ann Müller",
        "subject": "Your visit on Tuesday, 24 November at 10:00",
        "text": "Hello Ann,\nyour visit with Dr. Ann is confirmed. Grüße!\n",
        "html": "<p>Hello Ann,</p><p>your visit with Dr. Ann is confirmed.</p>",
        "message_id": f"<a1.confirmation.{number}@openvisit.test>",
        "idempotency_key": f"a1:confirmation:{number}",
        "language": "de",
        "calendar": Attachment("invite.ics", "text/calendar; method=REQUEST", INVITE),
        "attachments": (Attachment("leaflet.pdf", "application/pdf", LEAFLET),),
        "headers": (("Reply-To", "desk@clinic.example"),),
    }
    return EmailMessage(**{**values, **changes})


def transport(port: int, **changes: Any) -> SmtpTransport:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_from_address": "visits@clinic.example",
        "smtp_from_name": "Clinic Visits",
        "smtp_timeout_seconds": 5,
        "smtp_connections": 2,
        "clock": FixedClock(TEST_NOW),
    }
    return from_options({**values, **changes})


Step = EmailMessage | float | Callable[[], object]


def send(
    sender: SmtpTransport, *steps: Step, together: bool = False
) -> list[Receipt | DeliveryFailure]:
    """Each message's receipt or failure, in order, on one event loop (a float sleeps
    that long between sends, a function is called there; `together` sends every
    message at once); the transport is closed at the end, on the same loop."""

    async def one(message: EmailMessage) -> Receipt | DeliveryFailure:
        try:
            return await sender.send_email(message)
        except DeliveryFailure as failure:
            return failure

    async def scenario() -> list[Receipt | DeliveryFailure]:
        try:
            if together:
                messages = [step for step in steps if isinstance(step, EmailMessage)]
                return list(await asyncio.gather(*(one(message) for message in messages)))
            results = []
            for step in steps:
                if isinstance(step, EmailMessage):
                    results.append(await one(step))
                elif isinstance(step, float):
                    await asyncio.sleep(step)
                else:
                    step()
            return results
        finally:
            await sender.close()

    return asyncio.run(scenario())


def client_sockets_to(port: int) -> int:
    """How many of this process's sockets are connected to 127.0.0.1:`port` (Linux)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            with socket.socket(fileno=os.dup(int(fd))) as sock:
                count += sock.getpeername() == ("127.0.0.1", port)
        except OSError:  # gone meanwhile, or not a connected socket
            continue
    return count


def resource_warnings_on_collect() -> list[str]:
    """What the garbage collector warns about (an unclosed transport or socket)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    return [str(item.message) for item in caught if issubclass(item.category, ResourceWarning)]


def tls_server(pki: Pki, security: str) -> dict[str, Any]:
    context = pki.server_context()
    return {"tls_context": context} if security == "starttls" else {"ssl_context": context}


def lines(text: str) -> list[str]:
    return text.splitlines()  # what was sent as CRLF lines, whatever the line ends


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_a_message_goes_out_with_its_headers_and_the_invitation_layout():
    sink = Sink()
    with smtp_server(sink) as port:
        [receipt] = send(transport(port), letter())

    assert receipt == Receipt(
        provider_id=QUEUE_ID, detail=f"SMTP 250 2.0.0 Ok: queued as {QUEUE_ID}"
    )
    [got] = sink.received
    assert (got.mail_from, got.rcpt_tos, got.tls) == (
        "visits@clinic.example",
        ["ann.customer@example.test"],
        False,
    )
    message = got.message
    assert message["From"] == "Clinic Visits <visits@clinic.example>"
    assert message["To"] == "Ann Müller <ann.customer@example.test>"
    assert message["Subject"] == "Your visit on Tuesday, 24 November at 10:00"
    assert message["Date"] == "Mon, 23 Nov 2026 14:00:00 +0000"
    assert message["Message-ID"] == "<a1.confirmation.1@openvisit.test>"
    assert message["Content-Language"] == "de"
    assert message["Reply-To"] == "desk@clinic.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    alternative, invite, leaflet = message.iter_parts()
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    text, html, calendar = alternative.iter_parts()
    assert lines(text.get_content()) == lines(letter().text)
    assert "confirmed" in html.get_content()
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_content().encode() == INVITE
    assert (invite.get_filename(), invite.get_content(), invite.is_attachment()) == (
        "invite.ics",
        INVITE,
        True,
    )
    assert (leaflet.get_content_type(), leaflet.get_filename()) == (
        "application/pdf",
        "leaflet.pdf",
    )
    assert leaflet.get_content() == LEAFLET


def test_a_text_only_message_is_one_plain_part():
    sink = Sink()
    plain = letter(html=None, calendar=None, attachments=(), headers=())
    with smtp_server(sink) as port:
        send(transport(port, smtp_from_name=None), plain)

    message = sink.received[0].message
    assert message.get_content_type() == "text/plain"
    assert message["From"] == "visits@clinic.example"
    assert lines(message.get_content()) == lines(plain.text)


def test_starttls_upgrades_before_anything_is_sent(pki):
    sink = Sink()
    with smtp_server(sink, tls_context=pki.server_context(), require_starttls=True) as port:
        [receipt] = send(
            transport(port, smtp_security="starttls", smtp_ca_file=pki.ca_file), letter()
        )

    assert isinstance(receipt, Receipt)
    assert [item.tls for item in sink.received] == [True]


def test_implicit_tls_sends_over_tls_from_the_first_byte(pki):
    sink = Sink()
    with smtp_server(sink, ssl_context=pki.server_context()) as port:
        [receipt] = send(transport(port, smtp_security="tls", smtp_ca_file=pki.ca_file), letter())

    assert isinstance(receipt, Receipt)
    assert len(sink.received) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_the_system_does_not_trust_is_a_clear_transient_failure(pki, security):
    sink = Sink()
    with smtp_server(sink, **tls_server(pki, security)) as port:
        [failure] = send(transport(port, smtp_security=security), letter())

    assert isinstance(failure, TransientFailure)
    assert "certificate verify failed" in failure.reason
    assert "OPENVISIT_SMTP_CA_FILE" in failure.reason
    assert sink.received == []


def test_starttls_required_refuses_a_server_that_does_not_offer_it():
    sink = Sink()
    with smtp_server(sink) as port:
        [failure] = send(transport(port, smtp_security="starttls"), letter())

    assert isinstance(failure, TransientFailure)
    assert "does not offer STARTTLS" in failure.reason
    assert "nothing was sent in clear" in failure.reason
    assert sink.received == []


@pytest.mark.parametrize(("mechanism", "excluded"), [("PLAIN", ["LOGIN"]), ("LOGIN", ["PLAIN"])])
def test_auth_logs_in_over_tls(pki, mechanism, excluded):
    sink = Sink()
    server = {
        "tls_context": pki.server_context(),
        "authenticator": sink.authenticate,
        "auth_required": True,
        "auth_exclude_mechanism": excluded,
    }
    login = {"smtp_username": USER, "smtp_password": PASSWORD}
    with smtp_server(sink, **server) as port:
        sender = transport(port, smtp_security="starttls", smtp_ca_file=pki.ca_file, **login)
        receipts = send(sender, letter(1), letter(2))

    assert all(isinstance(receipt, Receipt) for receipt in receipts)
    assert sink.logins == [(mechanism, USER)]  # once: the second went over the same connection
    assert len(sink.received) == 2


def test_a_refused_login_is_transient_and_names_the_settings(pki):
    sink = Sink()
    server = {"tls_context": pki.server_context(), "authenticator": sink.authenticate}
    login = {"smtp_username": USER, "smtp_password": "wrong"}
    with smtp_server(sink, **server) as port:
        sender = transport(port, smtp_security="starttls", smtp_ca_file=pki.ca_file, **login)
        [failure] = send(sender, letter())

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith("SMTP login refused: 535")
    assert "OPENVISIT_SMTP_PASSWORD" in failure.reason
    assert "wrong" not in failure.reason
    assert sink.received == []


def test_a_refused_recipient_fails_for_good_and_the_connection_carries_on():
    sink = Sink(rcpt_replies=["550 5.1.1 <ann.customer@example.test>: Recipient unknown"])
    with smtp_server(sink) as port:
        refused, sent = send(transport(port), letter(1), letter(2))

    assert isinstance(refused, PermanentFailure)
    assert refused.reason == "SMTP 550 to RCPT TO: 5.1.1 <a***@example.test>: Recipient unknown"
    assert isinstance(sent, Receipt)
    assert [item.message["Message-ID"] for item in sink.received] == [letter(2).message_id]
    assert sink.connections == 1


@pytest.mark.parametrize(
    ("hook", "reply", "expected"),
    [
        ("rcpt_replies", "451 4.3.0 Try again later", TransientFailure),
        ("rcpt_replies", "452 4.2.2 Mailbox full", TransientFailure),
        ("mail_replies", "451 4.7.1 Greylisted", TransientFailure),
        ("mail_replies", "553 5.7.1 Sender not owned by user", TransientFailure),
        ("mail_replies", "552 5.3.4 Message too big", PermanentFailure),
    ],
)
def test_how_a_refusal_counts(hook, reply, expected):
    sink = Sink()
    getattr(sink, hook).append(reply)
    with smtp_server(sink) as port:
        [failure] = send(transport(port), letter())

    assert type(failure) is expected
    assert isinstance(failure, DeliveryFailure)
    assert reply.split()[0] in failure.reason
    assert sink.received == []


def test_content_refused_after_data_fails_for_good():
    sink = Sink(data_reply="554 5.7.1 Message rejected as spam")
    with smtp_server(sink) as port:
        [failure] = send(transport(port), letter())

    assert isinstance(failure, PermanentFailure)
    assert failure.reason == "SMTP 554 to DATA: 5.7.1 Message rejected as spam"


def test_a_server_that_is_down_is_transient():
    [failure] = send(transport(free_port()), letter())

    assert isinstance(failure, TransientFailure)
    assert failure.reason.startswith("could not reach the SMTP server 127.0.0.1:")


def test_a_server_that_never_answers_is_transient_within_the_timeout():
    with silent_server() as port:
        started = time.monotonic()
        [failure] = send(transport(port, smtp_timeout_seconds=0.5), letter())
        took = time.monotonic() - started

    assert isinstance(failure, TransientFailure)
    assert "did not answer within 0.5 s while connecting" in failure.reason
    assert took < 3


def test_messages_share_one_connection():
    sink = Sink()
    with smtp_server(sink) as port:
        receipts = send(transport(port), *(letter(n) for n in range(5)))

    assert all(isinstance(receipt, Receipt) for receipt in receipts)
    assert len(sink.received) == 5
    assert sink.connections == 1


def test_concurrent_sends_use_at_most_the_configured_connections():
    sink = Sink()
    with smtp_server(sink) as port:
        receipts = send(
            transport(port, smtp_connections=2), *(letter(n) for n in range(8)), together=True
        )

    assert all(isinstance(receipt, Receipt) for receipt in receipts)
    assert len({item.message["Message-ID"] for item in sink.received}) == 8
    assert sink.connections == 2


def test_a_connection_the_server_dropped_while_idle_is_replaced():
    sink = Sink()
    with smtp_server(sink, timeout=0.3) as port:  # aiosmtpd closes idle connections
        receipts = send(transport(port), letter(1), 0.8, letter(2))

    assert all(isinstance(receipt, Receipt) for receipt in receipts)
    assert len(sink.received) == 2
    assert sink.connections == 2


def test_a_reused_connection_closed_at_mail_from_is_retried_once_on_a_new_one():
    sink = Sink()
    with smtp_server(sink) as port:
        closing = "421 4.4.2 Too many messages on this connection"
        first, second = send(
            transport(port), letter(1), lambda: sink.mail_replies.append(closing), letter(2)
        )

    assert isinstance(first, Receipt)
    assert isinstance(second, Receipt)
    assert sink.connections == 2


def test_a_new_connection_closed_at_mail_from_is_not_retried():
    sink = Sink(mail_replies=["421 4.3.2 Shutting down", "421 4.3.2 Shutting down"])
    with smtp_server(sink) as port:
        [failure] = send(transport(port), letter())

    assert isinstance(failure, TransientFailure)
    assert failure.reason == "SMTP 421 to MAIL FROM: 4.3.2 Shutting down"
    assert sink.mail_replies == ["421 4.3.2 Shutting down"]  # one MAIL FROM, not two


@pytest.mark.parametrize(
    "changes",
    [
        {"to_address": "nobody"},
        {"to_address": "ann@example.test\r\nRCPT TO:<eve@example.test>"},
        {"to_name": "Ann\r\nBcc: eve@example.test"},
        {"subject": "Hello\r\nBcc: eve@example.test"},
    ],
)
def test_a_message_that_cannot_be_written_safely_fails_for_good_unsent(changes):
    sink = Sink()
    with smtp_server(sink) as port:
        [failure] = send(transport(port), letter(**changes))

    assert isinstance(failure, PermanentFailure)
    assert failure.reason.startswith("the message cannot be written: ")
    assert sink.received == []


def closed_after_one_message(
    port: int, security: str, pki: Pki, timeout_seconds: float
) -> tuple[Receipt, float, int]:
    """Send one message over TLS, close the transport: the receipt, how long the close
    took, and how many sockets to the server were still open when it returned."""
    sender = transport(
        port, smtp_security=security, smtp_ca_file=pki.ca_file, smtp_timeout_seconds=timeout_seconds
    )

    async def scenario() -> tuple[Receipt, float, int]:
        receipt = await sender.send_email(letter())
        started = time.monotonic()
        await sender.close()
        return receipt, time.monotonic() - started, client_sockets_to(port)

    return asyncio.run(scenario())


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_closing_waits_for_the_tls_close_and_leaves_no_socket_behind(pki, security):
    with smtp_server(Sink(), **tls_server(pki, security)) as port:
        receipt, took, still_open = closed_after_one_message(port, security, pki, 5)

    assert isinstance(receipt, Receipt)
    assert still_open == 0
    assert took < 1  # the server's close_notify ended it, not the 2 s bound
    assert resource_warnings_on_collect() == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_closing_cuts_a_tls_close_the_server_never_answers_within_the_bound(pki, security):
    with smtp_server(Sink(), stall_close=True, **tls_server(pki, security)) as port:
        receipt, took, still_open = closed_after_one_message(port, security, pki, 0.5)

    assert isinstance(receipt, Receipt)
    assert still_open == 0  # cut, not left for the garbage collector of a later test
    assert 0.5 <= took < 1.5  # waited the bound (the timeout, below 2 s), then aborted
    assert resource_warnings_on_collect() == []
