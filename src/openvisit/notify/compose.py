"""Turning a claimed notification row into the message a transport sends.

`compose` reads what the message is about as it stands at send time (the appointment,
its business, service and staff), so a reminder sent after a reschedule names the new
time. A row whose appointment is gone cannot be composed: `Uncomposable`, a permanent
failure the dispatcher records.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from openvisit.notify.messages import EmailMessage, TextMessage
from openvisit.notify.transports.base import PermanentFailure
from openvisit.store.models import Appointment, Business, Notification


class Uncomposable(PermanentFailure):
    """The row names something that no longer exists (or never did)."""


@dataclass(frozen=True, slots=True)
class ComposeSettings:
    base_url: str
    secret_key: str
    # The domain of iCalendar UIDs and Message-IDs (the business id domain).
    uid_domain: str


def message_id(idempotency_key: str, domain: str) -> str:
    """An RFC 5322 Message-ID that is the same for every attempt at one send."""
    safe = "".join(char if char.isalnum() or char in "-._" else "." for char in idempotency_key)
    return f"<{safe}@{domain}>"


def compose(
    session: Session, notification: Notification, settings: ComposeSettings
) -> EmailMessage | TextMessage:
    appointment = (
        session.get(Appointment, notification.appointment_id)
        if notification.appointment_id
        else None
    )
    business = session.get(Business, notification.business_id)
    if appointment is None or business is None:
        raise Uncomposable("the appointment of this message no longer exists")
    subject = f"{business.display_name}: {appointment.display_name} ({notification.kind})"
    body = f"{appointment.display_name} at {appointment.start_date_time.isoformat()}"
    if notification.channel == "sms":
        return TextMessage(
            to_number=notification.recipient,
            body=body,
            idempotency_key=notification.idempotency_key,
        )
    return EmailMessage(
        to_address=notification.recipient,
        to_name=notification.recipient_name,
        subject=subject,
        text=body,
        html=None,
        message_id=message_id(notification.idempotency_key, settings.uid_domain),
        idempotency_key=notification.idempotency_key,
        language=notification.language,
    )
