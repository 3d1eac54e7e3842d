"""iCalendar files for appointments (RFC 5545, iTIP RFC 5546), made with `icalendar`.

One appointment is one VEVENT whose UID never changes (`appointment_uid`), so a calendar
that imported the confirmation updates that event when a reschedule arrives with a higher
SEQUENCE, and removes it on METHOD:CANCEL. Times are written in UTC (the `Z` form): every
client converts them to its own zone, and no VTIMEZONE can disagree with the database.

`calendar_file` builds the attachment of an e-mail or the "Add to calendar" download;
`event` builds one VEVENT for a calendar of many (the staff calendar feed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import icalendar

PRODUCT_ID = "-//OpenVisit//OpenVisit//EN"
Method = Literal["REQUEST", "CANCEL", "PUBLISH"]


@dataclass(frozen=True, slots=True)
class Person:
    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str
    stamp: datetime  # when this version of the event was made (DTSTAMP)
    url: str | None = None  # the manage link (or a staff page, in a feed)
    location: str | None = None
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()
    cancelled: bool = False


def appointment_uid(appointment_id: str, domain: str) -> str:
    """The event's UID: the appointment id at the server's domain, stable for its life."""
    return f"{appointment_id}@{domain}"


def event(item: CalendarEvent) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", item.uid)
    component.add("sequence", item.sequence)
    component.add("dtstamp", _utc(item.stamp))
    component.add("dtstart", _utc(item.start))
    component.add("dtend", _utc(item.end))
    component.add("summary", item.summary)
    component.add("description", item.description)
    component.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    component.add("transp", "OPAQUE")
    if item.url:
        component.add("url", item.url)
    if item.location:
        component.add("location", item.location)
    if item.organizer is not None and item.organizer.email:
        component.add("organizer", _address(item.organizer), parameters=_name(item.organizer))
    for person in item.attendees:
        if person.email:
            parameters = {
                **_name(person),
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "ACCEPTED",
                "RSVP": "FALSE",
            }
            component.add("attendee", _address(person), parameters=parameters)
    return component


def calendar_file(item: CalendarEvent, method: Method) -> bytes:
    """A one-event calendar with METHOD `method`, as the bytes of an .ics file."""
    return calendar_of([item], method=method, name=None)


def calendar_of(
    items: Iterable[CalendarEvent], *, method: Method | None, name: str | None
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for item in items:
        calendar.add_component(event(item))
    return bytes(calendar.to_ical())


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused")
    return value.astimezone(UTC)


def _address(person: Person) -> str:
    return f"mailto:{person.email}"


def _name(person: Person) -> dict[str, str]:
    return {"CN": person.name} if person.name else {}
