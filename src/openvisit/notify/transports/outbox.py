"""The local outbox: keeps every message in the database instead of sending it.

It is the transport when no SMTP server or SMS provider is configured (a new install,
the demo) and the recording double the tests assert against. The rows are shown to
signed-in administrators at /dev/outbox, so a new user sees what the system would have
sent. It is one table for every worker process, so what one worker "sent" another shows.
"""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy import insert

from openvisit.clock import Clock
from openvisit.notify.messages import EmailMessage, Receipt, TextMessage
from openvisit.store.db import Database
from openvisit.store.models import OutboxMessage, table_of


class OutboxTransport:
    """Both an EmailTransport and an SmsTransport (see transports/base.py)."""

    name = "outbox"

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def send_email(self, message: EmailMessage) -> Receipt:
        row: dict[str, object] = {
            "channel": "email",
            "recipient": message.to_address,
            "recipient_name": message.to_name,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "calendar": message.calendar.data.decode("utf-8") if message.calendar else None,
            "attachments": [
                {
                    "filename": item.filename,
                    "contentType": item.content_type,
                    "size": len(item.data),
                }
                for item in message.attachments
            ],
            "idempotency_key": message.idempotency_key,
        }
        return await anyio.to_thread.run_sync(self._keep, row)

    async def send_sms(self, message: TextMessage) -> Receipt:
        row: dict[str, object] = {
            "channel": "sms",
            "recipient": message.to_number,
            "recipient_name": None,
            "subject": None,
            "text": message.body,
            "html": None,
            "calendar": None,
            "attachments": [],
            "idempotency_key": message.idempotency_key,
        }
        return await anyio.to_thread.run_sync(self._keep, row)

    async def close(self) -> None:
        return None

    def _keep(self, row: dict[str, object]) -> Receipt:
        with self._db.write() as session:
            kept = session.execute(
                insert(table_of(OutboxMessage))
                .values(**row, created_at=self._clock.now())
                .returning(table_of(OutboxMessage).c.id)
            ).scalar_one()
        return Receipt(provider_id=f"outbox:{kept}")
