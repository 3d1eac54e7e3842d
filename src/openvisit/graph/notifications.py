""".../appointments/{id}/openvisit.notifications: an appointment's delivery log.

Graph has no resource for the messages Bookings sends, so this OpenVisit extension adds a
read-only navigation under the same conventions (docs/api.md): one entry per message
(one recipient over one channel) with its state and every step of its delivery log.
Readers of the appointment may read it; a team member only their own appointments'.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings.delivery_log import NotificationView, list_notifications
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.responses import context_url, quote_key, timestamp
from openvisit.graph.schemas.types import GraphModel

router = APIRouter(
    prefix="/solutions/bookingBusinesses/{business_id}/appointments/{appointment_id}",
    tags=["bookingAppointment"],
)
Reader = Annotated[Caller, Depends(Require(access.NOTIFICATION_READ))]


class DeliveryEventOut(GraphModel):
    date_time: datetime = Field(description="When it happened (UTC).")
    event: str = Field(
        description="queued, moved, claimed, reclaimed, sent, retrying, released, failed, "
        "cancelled or dropped."
    )
    detail: str | None = Field(description="The attempt, the provider's id, or the reason.")
    worker: str | None = Field(description="The dispatcher that did it (host:pid:id).")


class AppointmentNotificationOut(GraphModel):
    id: str
    kind: str = Field(
        description="confirmation, reminder, rescheduled, cancelled, staffBooked, "
        "staffRescheduled or staffCancelled."
    )
    channel: str = Field(description="email or sms.")
    audience: str = Field(description="customer or staff.")
    recipient: str = Field(description="The e-mail address or E.164 phone number.")
    status: str = Field(description="pending, sending, sent, failed, cancelled or dropped.")
    due_date_time: datetime
    expiry_date_time: datetime | None = Field(description="Unsent past this, it is dropped.")
    sent_date_time: datetime | None
    attempts: int
    last_error: str | None
    events: list[DeliveryEventOut]


class AppointmentNotificationCollection(GraphModel):
    value: list[AppointmentNotificationOut]


def notification_json(item: NotificationView) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "channel": item.channel,
        "audience": item.audience,
        "recipient": item.recipient,
        "status": item.status,
        "dueDateTime": timestamp(item.due_at),
        "expiryDateTime": timestamp(item.expires_at),
        "sentDateTime": timestamp(item.sent_at),
        "attempts": item.attempts,
        "lastError": item.last_error,
        "events": [
            {
                "dateTime": timestamp(event.at),
                "event": event.event,
                "detail": event.detail,
                "worker": event.worker,
            }
            for event in item.events
        ],
    }


@router.get(
    "/openvisit.notifications", responses={200: {"model": AppointmentNotificationCollection}}
)
def list_appointment_notifications(
    request: Request,
    business_id: str,
    appointment_id: str,
    runtime: RuntimeDep,
    caller: Reader,
) -> Any:
    """The appointment's notifications and their delivery log (OpenVisit extension), by
    due time; a cancelled appointment's too."""
    items = list_notifications(
        runtime.db, business_id, appointment_id, own_staff_id=caller.own_staff_id
    )
    fragment = (
        f"solutions/bookingBusinesses({quote_key(business_id)})/appointments"
        f"({quote_key(appointment_id)})/openvisit.notifications"
    )
    return {
        "@odata.context": context_url(request, fragment),
        "value": [notification_json(item) for item in items],
    }
