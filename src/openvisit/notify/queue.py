"""Notification rows: the states a row goes through and how rows are written.

A row is `pending` until its `available_at`; a dispatcher's claim makes it `sending`
with a lease (and sets `available_at` to the lease's end, so a row whose dispatcher died
is claimable again by the same test: "available now"). It ends `sent`, `failed` (a
permanent failure, or attempts used up), `cancelled` (its appointment was cancelled or
moved away, or the message was superseded) or `dropped` (its moment passed unsent: a
reminder once the visit began). Every transition writes a `notification_events` row,
the delivery log.

Rows are written with `rows_for` inside the caller's transaction (the booking's), never
in a transaction of their own: a booking that rolls back leaves no message behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

PENDING: Final = "pending"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
DROPPED: Final = "dropped"
# States a row can still leave; the others are final.
OPEN_STATES: Final = (PENDING, SENDING)
FINAL_STATES: Final = (SENT, FAILED, CANCELLED, DROPPED)

Channel = Literal["email", "sms"]
Audience = Literal["customer", "staff"]


@dataclass(frozen=True, slots=True)
class Planned:
    """One message decided on: to whom, over what, when, and the one send it stands for."""

    kind: str
    channel: Channel
    audience: Audience
    recipient: str
    recipient_name: str | None
    language: str
    due_at: datetime
    expires_at: datetime | None
    idempotency_key: str
    data: dict[str, Any] = field(default_factory=dict)


def rows_for(
    planned: Planned,
    *,
    business_id: str | None,
    appointment_id: str | None,
    now: datetime,
    meeting_id: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The notifications row and its `queued` log row, as plain dicts for insert_rows."""
    notification_id = str(uuid.uuid4())
    row = {
        "id": notification_id,
        "business_id": business_id,
        "appointment_id": appointment_id,
        "meeting_id": meeting_id,
        "kind": planned.kind,
        "channel": planned.channel,
        "audience": planned.audience,
        "recipient": planned.recipient,
        "recipient_name": planned.recipient_name,
        "language": planned.language,
        "due_at": planned.due_at,
        "expires_at": planned.expires_at,
        "status": PENDING,
        "available_at": planned.due_at,
        "attempts": 0,
        "lease_expires_at": None,
        "claimed_by": None,
        "idempotency_key": planned.idempotency_key,
        "data": dict(planned.data),
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
        "provider_id": None,
        "last_error": None,
    }
    return row, log_row(notification_id, "queued", now, detail=f"due {planned.due_at.isoformat()}")


def log_row(
    notification_id: str,
    event: str,
    at: datetime,
    *,
    detail: str | None = None,
    worker: str | None = None,
) -> dict[str, Any]:
    return {
        "notification_id": notification_id,
        "at": at,
        "event": event,
        "detail": detail,
        "worker": worker,
    }
