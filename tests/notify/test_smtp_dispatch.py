"""A booking's confirmation leaves over SMTP: settings with email_transport=smtp, the
dispatcher they build, and a real SMTP server (aiosmtpd) on loopback (both backends)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from openvisit.config import Settings
from openvisit.delivery import build_dispatcher
from openvisit.runtime import Runtime
from openvisit.store.models import Notification
from tests.bookings.clinic import book_at, make_clinic
from tests.conftest import TEST_SECRET
from tests.notify.smtp_server import QUEUE_ID, Sink, smtp_server
from tests.notify.support import events

CUSTOMER = {"name": "Ann Customer", "emailAddress": "ann.customer@example.test"}


def run_once(runtime: Runtime, settings: Settings) -> int:
    dispatcher = build_dispatcher(
        settings, runtime.db, runtime.clock, secret_key=TEST_SECRET, worker_id="worker-a"
    )

    async def scenario() -> int:
        try:
            return await dispatcher.run_once()
        finally:
            await dispatcher.close()

    return asyncio.run(scenario())


def test_a_booking_confirmation_is_delivered_over_smtp_and_logged(runtime):
    clinic = make_clinic(runtime)
    booked = book_at(runtime, clinic, customers=(CUSTOMER,))
    sink = Sink()

    with smtp_server(sink) as port:
        settings = Settings(
            email_transport="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_from_address="visits@clinic.example",
            smtp_from_name="Clinic",
        )
        taken = run_once(runtime, settings)

    to_customer = [item for item in sink.received if item.rcpt_tos == [CUSTOMER["emailAddress"]]]
    assert taken == len(sink.received) >= 2  # the customer's confirmation and the staff's notice
    [confirmation] = to_customer
    message = confirmation.message
    assert confirmation.mail_from == "visits@clinic.example"
    assert message["From"] == "Clinic <visits@clinic.example>"
    assert message["To"] == "Ann Customer <ann.customer@example.test>"
    assert len({item.message["Message-ID"] for item in sink.received}) == len(sink.received)
    assert sink.connections <= settings.smtp_connections  # concurrent sends share the pool
    [notification] = customer_rows(runtime, booked.id)
    assert (notification.kind, notification.status) == ("confirmation", "sent")
    assert notification.provider_id == QUEUE_ID
    assert [event for event, _detail, _worker in events(runtime.db, notification.id)] == [
        "queued",
        "claimed",
        "sent",
    ]


def customer_rows(runtime: Runtime, appointment_id: str) -> list[Notification]:
    with runtime.db.read() as session:
        found = session.scalars(
            select(Notification).where(
                Notification.appointment_id == appointment_id,
                Notification.recipient == CUSTOMER["emailAddress"],
            )
        )
        return list(found)
