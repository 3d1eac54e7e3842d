"""sendVirtualAppointmentSms and sendVirtualAppointmentReminderSms: text messages about
an online meeting, as notification rows the dispatcher sends through the SMS adapters.

Each attendee's number becomes one `notifications` row (channel sms, audience customer)
naming the meeting, written with an audit row in one transaction; the dispatcher
composes it at send time from the meeting as it stands then (notify/meeting_texts.py),
with the consumer's join link (none in a cancellation), so the delivery log
(`notification_events`) shows each one. A confirmation, reschedule or cancellation is
due now; a reminder `remindBeforeTimeInMinutesType` before the start (now, if that has
passed) and is dropped unsent once the meeting began. Asking twice for the same text
about the meeting as it stands adds nothing: the idempotency key names the message, the
meeting's start and link version, and the number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from openvisit import audit, i18n, phones
from openvisit.audit.actions import Action
from openvisit.clock import Clock
from openvisit.errors import InvalidInput
from openvisit.meetings.online_meetings import check_open, owned
from openvisit.notify import sms_text
from openvisit.notify.planning import FALLBACK_PHONE_REGION
from openvisit.notify.queue import Planned, rows_for
from openvisit.store.db import Database
from openvisit.store.models import (
    Appointment,
    Business,
    Notification,
    NotificationEvent,
    OnlineMeeting,
    Service,
    table_of,
)

# Graph's messageType -> the notification kind (templates/sms/<kind>.txt).
MESSAGE_KINDS = {
    "confirmation": "meetingConfirmation",
    "reschedule": "meetingRescheduled",
    "cancellation": "meetingCancelled",
}
REMINDER_KIND = "meetingReminder"
REMINDER_MINUTES = {"mins15": 15, "mins30": 30, "mins60": 60, "mins120": 120, "mins1440": 1440}


@dataclass(frozen=True)
class SmsAttendee:
    phone_number: str
    time_zone: str | None = None


def send_sms(
    db: Database,
    clock: Clock,
    user_id: str,
    meeting_id: str,
    attendees: Sequence[SmsAttendee],
    message_type: str,
    *,
    actor: str,
) -> int:
    """Queue a confirmation, reschedule or cancellation text to each attendee."""
    kind = MESSAGE_KINDS.get(message_type)
    if kind is None:
        raise InvalidInput(
            "invalidProperty",
            target="messageType",
            property="messageType",
            detail="must be confirmation, reschedule or cancellation",
        )
    return _queue(db, clock, user_id, meeting_id, attendees, kind, None, actor)


def send_reminder_sms(
    db: Database,
    clock: Clock,
    user_id: str,
    meeting_id: str,
    attendees: Sequence[SmsAttendee],
    remind_before: str,
    *,
    actor: str,
) -> int:
    """Queue a reminder text to each attendee, due `remind_before` the meeting's start."""
    minutes = REMINDER_MINUTES.get(remind_before)
    if minutes is None:
        raise InvalidInput(
            "invalidProperty",
            target="remindBeforeTimeInMinutesType",
            property="remindBeforeTimeInMinutesType",
            detail="must be mins15, mins30, mins60, mins120 or mins1440",
        )
    return _queue(db, clock, user_id, meeting_id, attendees, REMINDER_KIND, minutes, actor)


def _queue(
    db: Database,
    clock: Clock,
    user_id: str,
    meeting_id: str,
    attendees: Sequence[SmsAttendee],
    kind: str,
    minutes: int | None,
    actor: str,
) -> int:
    now = clock.now()
    with db.write() as session:
        meeting = owned(session, user_id, meeting_id)
        if kind != MESSAGE_KINDS["cancellation"]:
            check_open(meeting)
        business = session.get(Business, meeting.business_id) if meeting.business_id else None
        region = (
            phones.region_of((business.address or {}).get("countryOrRegion")) if business else None
        )
        language = _language(session, meeting, business)
        planned = [
            _planned(meeting, kind, minutes, _number(item, index, region), item, language, now)
            for index, item in enumerate(attendees)
        ]
        fresh = _not_taken(session, planned)
        rows = [
            rows_for(
                item,
                business_id=meeting.business_id,
                appointment_id=meeting.appointment_id,
                meeting_id=meeting.id,
                now=now,
            )
            for item in fresh
        ]
        if rows:
            session.execute(insert(table_of(Notification)), [row for row, _event in rows])
            session.execute(insert(table_of(NotificationEvent)), [event for _row, event in rows])
        audit.record(
            session,
            Action.MEETING_SMS_REQUESTED,
            actor=actor,
            subject=meeting.id,
            at=now,
            data={"kind": kind, "recipients": len(planned), "queued": len(fresh)},
        )
        return len(fresh)


def _language(session: Session, meeting: OnlineMeeting, business: Business | None) -> str:
    """An appointment's meeting texts in the language its other messages use (the one it
    was booked in, else its service's); else the business's; else English."""
    appointment = (
        session.get(Appointment, meeting.appointment_id) if meeting.appointment_id else None
    )
    service = (
        session.get(Service, appointment.service_id)
        if appointment is not None and appointment.service_id
        else None
    )
    default = service.language_tag if service is not None else None
    return i18n.negotiate(
        chosen=appointment.customer_language if appointment is not None else None,
        default=default or (business.language_tag if business is not None else None),
    )


def _number(attendee: SmsAttendee, index: int, region: str | None) -> str:
    try:
        return sms_text.to_e164(attendee.phone_number, region or FALLBACK_PHONE_REGION)
    except sms_text.PhoneNumberError as error:
        raise InvalidInput(
            "noSmsRecipient",
            target=f"attendees.{index}.phoneNumber",
            index=index,
            number=attendee.phone_number[:40],
        ) from error


def _planned(
    meeting: OnlineMeeting,
    kind: str,
    minutes: int | None,
    number: str,
    attendee: SmsAttendee,
    language: str,
    now: datetime,
) -> Planned:
    due = now if minutes is None else max(now, meeting.start_date_time - timedelta(minutes=minutes))
    which = f"{kind}{minutes or ''}"
    key = ":".join(
        (
            "meeting",
            meeting.id,
            which,
            meeting.start_date_time.isoformat(),
            str(meeting.link_version),
            number,
        )
    )
    return Planned(
        kind=kind,
        channel="sms",
        audience="customer",
        recipient=number,
        recipient_name=None,
        language=language,
        due_at=due,
        # A reminder once the meeting began is pointless; so is any text once it ended.
        expires_at=meeting.start_date_time if minutes is not None else meeting.end_date_time,
        idempotency_key=key,
        data={"timeZone": attendee.time_zone} if attendee.time_zone else {},
    )


def _not_taken(session: Session, planned: list[Planned]) -> list[Planned]:
    keys = [item.idempotency_key for item in planned]
    taken = set(
        session.scalars(
            select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))
        )
    )
    unique: dict[str, Planned] = {}
    for item in planned:
        if item.idempotency_key not in taken:
            unique.setdefault(item.idempotency_key, item)
    return list(unique.values())
