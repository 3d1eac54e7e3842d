"""What one message says, as plain values a template can lay out: `MessageContent`.

Built at send time from the rows as they stand (the appointment, its business, service
and staff) and the notification's own data (the reminder's text, the cancellation
message, where a moved appointment was before). Every date is already formatted for the
reader's language and zone, so the templates hold wording and layout only and stay
editable by someone who knows no Python.

Whose zone: a customer reads times in the zone they booked in (the appointment's
`customerTimeZone`), else the business's; staff read the business's zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit import consumer_links, i18n, join_links
from openvisit.store.models import (
    Appointment,
    Business,
    Notification,
    OnlineMeeting,
    Service,
    StaffMember,
)

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CANCELLATIONS = ("cancelled", "staffCancelled")


class PrerequisiteDocument(Protocol):
    """A document a service asks the consumer to read or bring (bookings/documents.py)."""

    @property
    def display_name(self) -> str: ...

    @property
    def description(self) -> str | None: ...

    def url(self, base_url: str, manage_token: str) -> str: ...


# How compose finds a service's prerequisite documents inside its unit of work. The
# bookings layer owns documents and sits above notify, so delivery.py hands its query in.
PrerequisiteQuery = Callable[[Session, str, str], Sequence[PrerequisiteDocument]]


def no_prerequisites(
    _session: Session, _business_id: str, _service_id: str
) -> Sequence[PrerequisiteDocument]:
    return ()


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class MessageContent:
    kind: str
    audience: str  # customer | staff
    language: str
    recipient_name: str | None
    business_name: str
    business_email: str | None
    business_phone: str | None
    business_web_site: str | None
    brand_colour: str | None  # #RRGGBB from bookingPageSettings, else None
    service_name: str
    # The times the message is about (a moved-away provider's: the time they had).
    start: datetime
    end: datetime
    date: str  # "Thursday, 10 December 2026"
    start_time: str  # "10:00"
    end_time: str
    zone: str  # "Berlin (UTC+01:00)"
    short_when: str  # "10/12/2026, 10:00" for an SMS
    previous_date: str | None  # where a moved appointment was, in the same zone
    previous_start_time: str | None
    staff_names: str | None
    customers: tuple[Person, ...]  # for staff: whom they will see
    location: str | None
    reminder_message: str | None
    cancellation_message: str | None
    manage_url: str | None  # customers only: their capability, never sent to staff
    may_change: bool  # the customer may reschedule or cancel through the manage link
    calendar_url: str | None
    documents_url: str | None
    booking_url: str | None  # after a cancellation: where to book again
    prerequisites: tuple[Link, ...]
    # An online visit's way in: a customer's join link (their capability) and device
    # check; for staff, their own link behind the sign-in, and no device check link.
    join_url: str | None = None
    device_check_url: str | None = None


@dataclass(frozen=True, slots=True)
class ContentSettings:
    base_url: str
    secret_key: str
    prerequisites: PrerequisiteQuery = no_prerequisites


@dataclass(frozen=True, slots=True)
class Subject:
    """The rows one message is about, loaded once."""

    notification: Notification
    appointment: Appointment
    business: Business
    service: Service | None
    staff: tuple[StaffMember, ...]


def content_of(session: Session, subject: Subject, settings: ContentSettings) -> MessageContent:
    notification, appointment, business = (
        subject.notification,
        subject.appointment,
        subject.business,
    )
    language = i18n.supported(notification.language) or i18n.SOURCE_LANGUAGE
    customer = notification.audience == "customer"
    cancelled = notification.kind in CANCELLATIONS
    zone = _zone(appointment.customer_time_zone if customer else None, business)
    start, end = appointment.start_date_time, appointment.end_date_time
    data: Mapping[str, Any] = notification.data or {}
    previous = _instant(data.get("previousStart"))
    staff_names = ", ".join(member.display_name for member in subject.staff) or None
    if notification.kind == "staffCancelled" and previous is not None:
        # The appointment moved away from this provider: what is cancelled for them is
        # the time they had, with whoever has it now beside the point.
        start, end = previous, _instant(data.get("previousEnd")) or previous
        previous, staff_names = None, None
    # A cancelled appointment has nothing left to manage; the message offers a new one.
    token = _manage_token(appointment, settings.secret_key) if customer and not cancelled else None
    manage_url = consumer_links.manage_url(settings.base_url, token) if token else None
    return MessageContent(
        kind=notification.kind,
        audience=notification.audience,
        language=language,
        recipient_name=notification.recipient_name,
        business_name=business.display_name,
        business_email=business.email,
        business_phone=business.phone,
        business_web_site=_web_address(business.web_site_url),
        brand_colour=_brand_colour(business.booking_page_settings),
        service_name=appointment.display_name,
        start=start,
        end=end,
        date=i18n.format_date(start, zone, language),
        start_time=i18n.format_time(start, zone, language),
        end_time=i18n.format_time(end, zone, language),
        zone=i18n.zone_label(zone, language, at=start),
        short_when=i18n.format_datetime(start, zone, language, width="short"),
        previous_date=i18n.format_date(previous, zone, language) if previous else None,
        previous_start_time=i18n.format_time(previous, zone, language) if previous else None,
        staff_names=staff_names,
        customers=tuple(_people(appointment.customers)) if not customer else (),
        location=_location(appointment.details),
        reminder_message=_text(data.get("message")),
        cancellation_message=_text(data.get("cancellationMessage")),
        manage_url=manage_url,
        may_change=appointment.details.get("isCustomerAllowedToManageBooking") is not False,
        calendar_url=consumer_links.calendar_url(settings.base_url, token) if token else None,
        documents_url=consumer_links.documents_url(settings.base_url, token) if token else None,
        booking_url=consumer_links.business_page_url(settings.base_url, business.id)
        if customer and cancelled and business.is_published
        else None,
        prerequisites=_prerequisites(session, subject, settings, token),
        **_visit_links(session, subject, settings, customer=customer, cancelled=cancelled),
    )


def _visit_links(
    session: Session,
    subject: Subject,
    settings: ContentSettings,
    *,
    customer: bool,
    cancelled: bool,
) -> dict[str, str | None]:
    """join_url and device_check_url of an online appointment's open meeting, if any."""
    if cancelled or subject.appointment.details.get("isLocationOnline") is not True:
        return {}
    meeting = session.scalar(
        select(OnlineMeeting).where(OnlineMeeting.appointment_id == subject.appointment.id)
    )
    if meeting is None or meeting.status == "cancelled":
        return {}
    if not customer:
        return {"join_url": join_links.staff_join_url(settings.base_url, meeting.id)}
    token = join_links.join_token(
        settings.secret_key,
        meeting.id,
        role="consumer",
        version=meeting.link_version,
        end=meeting.end_date_time,
    )
    return {
        "join_url": join_links.join_url(settings.base_url, token),
        "device_check_url": join_links.device_check_url(settings.base_url, token),
    }


def _zone(customer_zone: str | None, business: Business) -> tzinfo:
    settings = business.booking_page_settings or {}
    for name in (customer_zone, settings.get("businessTimeZone")):
        if name:
            try:
                return ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                continue  # stored before a tzdata update removed it: fall back, never fail
    return ZoneInfo("UTC")


def _instant(value: object) -> datetime | None:
    """An aware datetime stored as ISO text in a notification's data, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _manage_token(appointment: Appointment, secret_key: str) -> str:
    return consumer_links.manage_token(
        secret_key,
        appointment.id,
        version=appointment.link_version,
        end=appointment.end_date_time,
    )


def _brand_colour(settings: Mapping[str, Any] | None) -> str | None:
    value = str((settings or {}).get("bookingPageColorCode") or "")
    # Only #RRGGBB reaches a style attribute: nothing else can break out of it.
    return value if _HEX_COLOUR.match(value) else None


def _web_address(value: str | None) -> str | None:
    # Only http(s) becomes a link: a stored "javascript:" address must not reach an href.
    if value and value.lower().startswith(("https://", "http://")):
        return value
    return None


def _people(customers: Sequence[Mapping[str, Any]]) -> list[Person]:
    return [
        Person(
            name=str(customer.get("name") or customer.get("emailAddress") or "?"),
            email=_text(customer.get("emailAddress")),
            phone=_text(customer.get("phone")),
        )
        for customer in customers
    ]


def _location(details: Mapping[str, Any]) -> str | None:
    if details.get("isLocationOnline"):
        return None
    location = details.get("serviceLocation")
    if isinstance(location, Mapping):
        return _text(location.get("displayName"))
    return None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _prerequisites(
    session: Session, subject: Subject, settings: ContentSettings, token: str | None
) -> tuple[Link, ...]:
    # Only a customer's message lists them: a file's address is behind their manage link.
    if token is None or subject.service is None:
        return ()
    if subject.notification.kind not in ("confirmation", "reminder", "rescheduled"):
        return ()
    documents = settings.prerequisites(session, subject.business.id, subject.service.id)
    return tuple(
        Link(document.display_name, document.url(settings.base_url, token), document.description)
        for document in documents
    )
