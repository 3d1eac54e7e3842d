"""Due notification rows and a recording transport for the delivery tests.

Rows are written as the planner writes them (notify.queue.rows_for + insert_rows), for
an appointment inserted as a plain row: booking through the service would add the
planner's own rows, and these tests count exactly the rows they made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from openvisit.clock import Clock
from openvisit.notify import queue
from openvisit.notify.compose import ComposeSettings
from openvisit.notify.dispatcher import Dispatcher
from openvisit.notify.messages import EmailMessage, Receipt, TextMessage
from openvisit.runtime import Runtime
from openvisit.store.db import Database
from openvisit.store.inserts import insert_rows
from openvisit.store.models import Appointment, Notification, NotificationEvent, table_of
from tests.conftest import TEST_SECRET
from tests.factories import make_business
from tests.rows import appointment_row

COMPOSE = ComposeSettings(
    base_url="http://testserver", secret_key=TEST_SECRET, uid_domain="openvisit.test"
)
INSERT_CHUNK = 25  # a few bookings' worth: insert_rows makes one statement of them on PostgreSQL


@dataclass(frozen=True)
class Visit:
    business_id: str
    appointment_id: str
    start: datetime


def make_visit(runtime: Runtime, start: datetime | None = None) -> Visit:
    """A business and one appointment (a plain row), `start` a day from now by default."""
    business = make_business(runtime)
    begins = start or runtime.clock.now() + timedelta(days=1)
    row = appointment_row(business, "staff-1", begins)
    with runtime.db.write() as session:
        session.execute(insert(table_of(Appointment)), [row])
    return Visit(business, row["id"], begins)


def plan(
    visit: Visit,
    *,
    due_at: datetime,
    expires_at: datetime | None = None,
    kind: str = "reminder",
    channel: queue.Channel = "email",
    key: str | None = None,
    number: int = 0,
) -> queue.Planned:
    recipient = "ann@example.test" if channel == "email" else "+4915112345678"
    return queue.Planned(
        kind=kind,
        channel=channel,
        audience="customer",
        recipient=recipient,
        recipient_name="Ann",
        language="en",
        due_at=due_at,
        expires_at=expires_at,
        idempotency_key=key or f"{visit.appointment_id}:{kind}:{number}:{channel}:{recipient}",
        data={"sequence": 0, "message": "", "offset": "PT24H"},
    )


def insert_planned(
    db: Database, visit: Visit, planned: Sequence[queue.Planned], now: datetime
) -> list[str]:
    """Write the rows and their `queued` log rows; returns the notification ids in order."""
    ids: list[str] = []
    for start in range(0, len(planned), INSERT_CHUNK):
        rows, events = [], []
        for item in planned[start : start + INSERT_CHUNK]:
            row, event = queue.rows_for(
                item, business_id=visit.business_id, appointment_id=visit.appointment_id, now=now
            )
            rows.append(row)
            events.append(event)
            ids.append(str(row["id"]))
        with db.write() as session:
            insert_rows(session, [(Notification, rows), (NotificationEvent, events)])
    return ids


def due_now(runtime: Runtime, visit: Visit, count: int = 1, **changes: Any) -> list[str]:
    """`count` rows due a minute ago, each its own send."""
    now = runtime.clock.now()
    changes.setdefault("due_at", now - timedelta(minutes=1))
    planned = [plan(visit, number=n, **changes) for n in range(count)]
    return insert_planned(runtime.db, visit, planned, now)


def row(db: Database, notification_id: str) -> Notification:
    with db.read() as session:
        found = session.get(Notification, notification_id)
        assert found is not None
        return found


def statuses(db: Database) -> dict[str, str]:
    with db.read() as session:
        return dict(session.execute(select(Notification.id, Notification.status)).all())


def events(db: Database, notification_id: str) -> list[tuple[str, str | None, str | None]]:
    """(event, detail, worker) of one row's delivery log, in order."""
    with db.read() as session:
        found = session.execute(
            select(NotificationEvent.event, NotificationEvent.detail, NotificationEvent.worker)
            .where(NotificationEvent.notification_id == notification_id)
            .order_by(NotificationEvent.id)
        )
        return [(event, detail, worker) for event, detail, worker in found]


Behaviour = Callable[[str, int], Awaitable[Receipt]]


@dataclass
class Recording:
    """A transport double of the contract (transports/base.py): it records every
    message it accepts, and `behaviour(key, call number)` may refuse or delay one."""

    behaviour: Behaviour | None = None
    name: str = "recording"
    accepted: list[str] = field(default_factory=list)
    messages: list[EmailMessage | TextMessage] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    async def send_email(self, message: EmailMessage) -> Receipt:
        return await self._send(message)

    async def send_sms(self, message: TextMessage) -> Receipt:
        return await self._send(message)

    async def close(self) -> None:
        self.closed = True

    async def _send(self, message: EmailMessage | TextMessage) -> Receipt:
        key = message.idempotency_key
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.behaviour is not None:
            receipt = await self.behaviour(key, self.calls[key])
        else:
            receipt = Receipt(provider_id=f"rec-{len(self.accepted) + 1}")
        self.accepted.append(key)
        self.messages.append(message)
        return receipt


def dispatcher(
    db: Database,
    clock: Clock,
    transport: Recording | None = None,
    **options: Any,
) -> Dispatcher:
    used = transport or Recording()
    options.setdefault("worker_id", "worker-a")
    compose = options.pop("compose", COMPOSE)
    return Dispatcher(db, clock, used, used, compose, **options)
