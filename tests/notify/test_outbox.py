"""The outbox keeps what it is given, on both databases, for /dev/outbox to show."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from openvisit.notify.messages import Attachment, EmailMessage, Receipt, TextMessage
from openvisit.notify.transports.outbox import OutboxTransport
from openvisit.store.models import OutboxMessage


def test_the_outbox_keeps_an_email_and_a_text(database, clock):
    outbox = OutboxTransport(database, clock)
    calendar = Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")
    email = EmailMessage(
        to_address="ann@example.test",
        to_name="Ann",
        subject="Your visit",
        text="See you",
        html="<p>See you</p>",
        message_id="<k1@openvisit.test>",
        idempotency_key="k1",
        calendar=calendar,
        attachments=(Attachment("intake.pdf", "application/pdf", b"%PDF-1.7"),),
    )
    receipts = asyncio.run(_send(outbox, email, TextMessage("+4915112345678", "See you", "k2")))
    assert all(
        receipt.provider_id and receipt.provider_id.startswith("outbox:") for receipt in receipts
    )
    with database.read() as session:
        kept = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(row.channel, row.recipient, row.idempotency_key) for row in kept] == [
            ("email", "ann@example.test", "k1"),
            ("sms", "+4915112345678", "k2"),
        ]
        assert kept[0].calendar == "BEGIN:VCALENDAR\r\n"
        assert kept[0].attachments == [
            {"filename": "intake.pdf", "contentType": "application/pdf", "size": 8}
        ]
        assert kept[0].created_at == clock.now()


async def _send(outbox: OutboxTransport, email: EmailMessage, text: TextMessage) -> list[Receipt]:
    return [await outbox.send_email(email), await outbox.send_sms(text)]
