"""Turning a claimed notification row into the message a transport sends.

`compose` reads what the message is about as it stands at send time (the appointment,
its business, service and staff), so a reminder sent after a reschedule names the new
time. A row whose appointment is gone cannot be composed: `Uncomposable`, a permanent
failure the dispatcher records.

An e-mail about the appointment's time carries an iCalendar part (notify/ics.py):
METHOD:REQUEST for a confirmation, a move or a provider's new booking, METHOD:CANCEL
for a cancellation, with the appointment's one UID and its current SEQUENCE, so the
reader's calendar adds, moves and removes one event. Reminders carry none: they change
nothing in a calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit import i18n
from openvisit.notify import ics, meeting_texts
from openvisit.notify.content import (
    CANCELLATIONS,
    ContentSettings,
    MessageContent,
    PrerequisiteQuery,
    Subject,
    content_of,
    no_prerequisites,
)
from openvisit.notify.messages import Attachment, EmailMessage, TextMessage
from openvisit.notify.rendering import MissingTemplate, Templates
from openvisit.notify.transports.base import PermanentFailure
from openvisit.store.models import (
    Appointment,
    Business,
    Notification,
    NotificationEvent,
    Service,
    StaffMember,
)

# The kinds whose e-mail updates the reader's calendar, and how.
CALENDAR_METHODS: dict[str, ics.Method] = {
    "confirmation": "REQUEST",
    "rescheduled": "REQUEST",
    "staffBooked": "REQUEST",
    "staffRescheduled": "REQUEST",
    "cancelled": "CANCEL",
    "staffCancelled": "CANCEL",
}


class Uncomposable(PermanentFailure):
    """The row names something that no longer exists (or never did)."""


@dataclass(frozen=True, slots=True)
class ComposeSettings:
    base_url: str
    secret_key: str
    # The domain of iCalendar UIDs and Message-IDs (the business id domain).
    uid_domain: str
    # The data folder's templates, which win over the packaged ones (notify/rendering.py).
    templates_dir: Path | None = None
    prerequisites: PrerequisiteQuery = field(default=no_prerequisites)

    @property
    def templates(self) -> Templates:
        return Templates(self.templates_dir)


def message_id(idempotency_key: str, domain: str) -> str:
    """An RFC 5322 Message-ID that is the same for every attempt at one send."""
    safe = "".join(char if char.isalnum() or char in "-._" else "." for char in idempotency_key)
    return f"<{safe}@{domain}>"


def compose(
    session: Session, notification: Notification, settings: ComposeSettings
) -> EmailMessage | TextMessage:
    if notification.meeting_id is not None and notification.kind in meeting_texts.KINDS:
        return _meeting_text(session, notification, settings)
    subject = _subject(session, notification)
    content = content_of(
        session,
        subject,
        ContentSettings(settings.base_url, settings.secret_key, settings.prerequisites),
    )
    try:
        if notification.channel == "sms":
            return TextMessage(
                to_number=notification.recipient,
                body=settings.templates.sms(content),
                idempotency_key=notification.idempotency_key,
                first_attempt_at=_first_attempt(session, notification.id),
            )
        rendered = settings.templates.email(content)
    except MissingTemplate as missing:
        raise Uncomposable(f"{missing} for a {notification.channel} message") from missing
    business = subject.business
    return EmailMessage(
        to_address=notification.recipient,
        to_name=notification.recipient_name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id(notification.idempotency_key, settings.uid_domain),
        idempotency_key=notification.idempotency_key,
        language=content.language,
        calendar=_calendar(subject, content, settings),
        headers=(("Reply-To", business.email),) if business.email else (),
    )


def _meeting_text(
    session: Session, notification: Notification, settings: ComposeSettings
) -> TextMessage:
    text = meeting_texts.meeting_text_of(
        session, notification, base_url=settings.base_url, secret_key=settings.secret_key
    )
    try:
        body = settings.templates.meeting_sms(text)
    except MissingTemplate as missing:
        raise Uncomposable(f"{missing} for a {notification.channel} message") from missing
    return TextMessage(
        to_number=notification.recipient,
        body=body,
        idempotency_key=notification.idempotency_key,
        first_attempt_at=_first_attempt(session, notification.id),
    )


def _subject(session: Session, notification: Notification) -> Subject:
    appointment = (
        session.get(Appointment, notification.appointment_id)
        if notification.appointment_id
        else None
    )
    business = session.get(Business, notification.business_id) if notification.business_id else None
    if appointment is None or business is None:
        raise Uncomposable("the appointment of this message no longer exists")
    # A cancelled appointment may still send one thing: the news that it is cancelled.
    if appointment.status == "cancelled" and notification.kind not in CANCELLATIONS:
        raise Uncomposable("the appointment was cancelled before this message went out")
    service = session.get(Service, appointment.service_id) if appointment.service_id else None
    staff = [session.get(StaffMember, staff_id) for staff_id in appointment.staff_member_ids]
    return Subject(
        notification=notification,
        appointment=appointment,
        business=business,
        service=service,
        staff=tuple(member for member in staff if member is not None),
    )


def _calendar(
    subject: Subject, content: MessageContent, settings: ComposeSettings
) -> Attachment | None:
    method = CALENDAR_METHODS.get(subject.notification.kind)
    if method is None:
        return None
    appointment, business = subject.appointment, subject.business
    data = subject.notification.data or {}
    _ = i18n.translations(content.language, "messages").gettext
    event = ics.CalendarEvent(
        uid=ics.appointment_uid(appointment.id, settings.uid_domain),
        # The sequence this message was planned for, or a later one: a provider who left
        # a moved appointment gets CANCEL at the move's sequence, never an older one.
        sequence=max(int(data.get("sequence") or 0), appointment.ical_sequence),
        start=content.start,
        end=content.end,
        summary=_("%(service)s with %(business)s")
        % {"service": content.service_name, "business": content.business_name},
        description=_description(content, _),
        stamp=appointment.last_updated_date_time,
        url=content.manage_url,
        # An online visit takes place behind its join link.
        location=content.join_url or content.location,
        organizer=ics.Person(business.display_name, business.email),
        attendees=(
            ics.Person(subject.notification.recipient_name, subject.notification.recipient),
        ),
        cancelled=method == "CANCEL",
    )
    return Attachment(
        filename="invite.ics",
        content_type=f"text/calendar; method={method}; charset=utf-8",
        data=ics.calendar_file(event, method),
    )


def _description(content: MessageContent, _: Callable[[str], str]) -> str:
    lines = []
    if content.join_url:
        lines.append(_("Join the video visit: %(link)s") % {"link": content.join_url})
    if content.device_check_url:
        lines.append(
            _("Test your camera and microphone: %(link)s") % {"link": content.device_check_url}
        )
    if content.manage_url is not None:
        if content.may_change:
            lines.append(_("View, reschedule or cancel: %(link)s") % {"link": content.manage_url})
        else:
            lines.append(_("View your appointment: %(link)s") % {"link": content.manage_url})
    return "\n".join(lines)


def _first_attempt(session: Session, notification_id: str) -> datetime | None:
    """When the first dispatcher claimed this row: the same for every retry of the send."""
    return session.scalar(
        select(NotificationEvent.at)
        .where(
            NotificationEvent.notification_id == notification_id,
            NotificationEvent.event.in_(("claimed", "reclaimed")),
        )
        .order_by(NotificationEvent.at)
        .limit(1)
    )
