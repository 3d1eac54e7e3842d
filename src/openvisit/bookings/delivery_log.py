"""An appointment's delivery log for staff: each notification and what happened to it.

It lives with the bookings services because who may read it is who may read the
appointment (a team member: only their own); the rows come from the notify tables. A
cancelled appointment's log stays readable: its cancellation notices are in it. An
online meeting's texts (sendVirtualAppointmentSms) have the same log, read by whoever
may read the meeting: its organizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openvisit.bookings.appointments.lookup import load_appointment
from openvisit.bookings.authority import check_owned
from openvisit.meetings.online_meetings import owned
from openvisit.store import notification_queries
from openvisit.store.db import Database
from openvisit.store.models import Notification, NotificationEvent


@dataclass(frozen=True, slots=True)
class DeliveryEventView:
    at: datetime
    event: str  # queued, claimed, reclaimed, sent, retrying, released, failed, dropped, ...
    detail: str | None
    worker: str | None


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: str
    kind: str
    channel: str
    audience: str
    recipient: str
    status: str
    due_at: datetime
    expires_at: datetime | None
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    events: tuple[DeliveryEventView, ...]


def list_notifications(
    db: Database, business_id: str, appointment_id: str, *, own_staff_id: str | None = None
) -> tuple[NotificationView, ...]:
    """The appointment's notifications by due time, each with its log in order."""
    with db.read() as session:
        appointment = load_appointment(session, business_id, appointment_id)
        check_owned(own_staff_id, appointment)
        notifications, events = notification_queries.appointment_log(session, appointment.id)
        return _views(notifications, events)


def list_meeting_notifications(
    db: Database, user_id: str, meeting_id: str
) -> tuple[NotificationView, ...]:
    """The texts about an online meeting by due time, each with its log in order."""
    with db.read() as session:
        meeting = owned(session, user_id, meeting_id)
        notifications, events = notification_queries.meeting_log(session, meeting.id)
        return _views(notifications, events)


def _views(
    notifications: Sequence[Notification], events: Sequence[NotificationEvent]
) -> tuple[NotificationView, ...]:
    logs: dict[str, list[DeliveryEventView]] = {row.id: [] for row in notifications}
    for event in events:
        logs[event.notification_id].append(
            DeliveryEventView(event.at, event.event, event.detail, event.worker)
        )
    return tuple(
        NotificationView(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            audience=row.audience,
            recipient=row.recipient,
            status=row.status,
            due_at=row.due_at,
            expires_at=row.expires_at,
            sent_at=row.sent_at,
            attempts=row.attempts,
            last_error=row.last_error,
            events=tuple(logs[row.id]),
        )
        for row in notifications
    )
