"""Each staff member's calendar feed: a secret URL their calendar app subscribes to.

The URL is a capability, like an API token: whoever has it reads that staff member's
booked appointments, and nothing else. It is shown once, when it is made; the database
keeps only its SHA-256 digest (256 random bits need no slow hash) and a prefix to tell
feeds apart. Making it again (rotation) replaces the secret, so the old URL stops at
once; revoking deletes it. A calendar that polls a revoked or unknown URL gets 404.

The feed lists the staff member's booked appointments from 30 days back to a year
ahead, read through their staff holds from the window's start on (the holds' staff and
end index), so a feed costs what the window holds, not what the years behind it do.
A cancelled appointment has no hold, so it leaves the feed; a moved one keeps its UID
and shows its new time with a higher SEQUENCE. The events carry no link: the feed is
read by calendar servers and shared calendars, and must not pass on any other secret.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.bookings.appointments import ACTIVE
from openvisit.bookings.appointments.checks import MAX_SPAN
from openvisit.bookings.records import require_business
from openvisit.clock import Clock
from openvisit.errors import NotFound
from openvisit.notify import ics
from openvisit.store.db import Database
from openvisit.store.models import Appointment, Business, CalendarFeed, StaffHold, StaffMember

TOKEN_PREFIX: Final = "ovf_"  # noqa: S105 - a public marker naming what a leaked string is
PREFIX_LENGTH: Final = len(TOKEN_PREFIX) + 6
FEED_FROM: Final = timedelta(days=30)  # before now
FEED_UNTIL: Final = timedelta(days=365)  # after now
# Calendars poll every few minutes to hours; noting each read would make reads writes.
READ_GRANULARITY: Final = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What the API shows of a feed: never its URL."""

    staff_member_id: str
    prefix: str
    created_date_time: datetime
    last_read_date_time: datetime | None


@dataclass(frozen=True, slots=True)
class NewFeed:
    info: FeedInfo
    token: str  # the secret part of the URL, shown this once
    rotated: bool  # it replaced an earlier URL


def feed_path(token: str) -> str:
    """The feed's path under the server's public base URL."""
    return f"/feeds/staff/{token}.ics"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: CalendarFeed) -> FeedInfo:
    return FeedInfo(
        row.staff_member_id, row.token_prefix, row.created_date_time, row.last_read_date_time
    )


def _require_staff(session: Session, business_id: str, staff_id: str) -> StaffMember:
    business = require_business(session, business_id)
    member = session.get(StaffMember, staff_id) if "\x00" not in staff_id else None
    if member is None or member.business_id != business.id:
        raise NotFound("staffNotFound", staff=staff_id)
    return member


def _feed_of(session: Session, staff_id: str) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(CalendarFeed.staff_member_id == staff_id))


def create_feed(
    db: Database, clock: Clock, business_id: str, staff_id: str, *, actor: str
) -> NewFeed:
    """Give the staff member a new feed URL, replacing (revoking) the one they had."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with db.write() as session:
        member = _require_staff(session, business_id, staff_id)
        row = _feed_of(session, member.id)
        rotated = row is not None
        if row is None:
            row = CalendarFeed(id=str(uuid.uuid4()), business_id=member.business_id)
            row.staff_member_id = member.id
            session.add(row)
        row.token_digest = _digest(token)
        row.token_prefix = token[:PREFIX_LENGTH]
        row.created_date_time = now
        row.last_read_date_time = None
        session.flush()
        action = Action.CALENDAR_FEED_ROTATED if rotated else Action.CALENDAR_FEED_CREATED
        data = {"businessId": member.business_id, "prefix": row.token_prefix}
        audit.record(session, action, actor=actor, subject=member.id, at=now, data=data)
        return NewFeed(_info(row), token, rotated)


def get_feed(db: Database, business_id: str, staff_id: str) -> FeedInfo | None:
    """The staff member's feed as the API shows it, or None when they have none."""
    with db.read() as session:
        member = _require_staff(session, business_id, staff_id)
        row = _feed_of(session, member.id)
        return None if row is None else _info(row)


def revoke_feed(db: Database, clock: Clock, business_id: str, staff_id: str, *, actor: str) -> None:
    """Revoke the staff member's feed URL; NotFound when they have none."""
    now = clock.now()
    with db.write() as session:
        member = _require_staff(session, business_id, staff_id)
        row = _feed_of(session, member.id)
        if row is None:
            raise NotFound("calendarFeedNotFound", staff=staff_id)
        data = {"businessId": member.business_id, "prefix": row.token_prefix}
        session.delete(row)
        audit.record(
            session, Action.CALENDAR_FEED_REVOKED, actor=actor, subject=member.id, at=now, data=data
        )


def read_feed(db: Database, clock: Clock, token: str, *, uid_domain: str) -> bytes | None:
    """The iCalendar document the token's feed serves, or None for no (or no longer a) feed."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    now = clock.now()
    with db.read() as session:
        found = session.execute(
            select(CalendarFeed, StaffMember, Business)
            .join(StaffMember, StaffMember.id == CalendarFeed.staff_member_id)
            .join(Business, Business.id == CalendarFeed.business_id)
            .where(CalendarFeed.token_digest == _digest(token))
        ).first()
        if found is None:
            return None
        feed, member, business = found
        appointments = _booked(session, business.id, member.id, now - FEED_FROM, now + FEED_UNTIL)
        events = [_event(appointment, uid_domain) for appointment in appointments]
        name = f"{member.display_name} ({business.display_name})"
        feed_id, last_read = feed.id, feed.last_read_date_time
    if last_read is None or now - last_read >= READ_GRANULARITY:
        _note_read(db, feed_id, now)
    return ics.calendar_of(events, method="PUBLISH", name=name)


def _booked(
    session: Session, business_id: str, staff_id: str, first: datetime, last: datetime
) -> Sequence[Appointment]:
    """The staff member's booked appointments meeting [first, last), by start."""
    return session.scalars(
        select(Appointment)
        .join(StaffHold, StaffHold.appointment_id == Appointment.id)
        .where(
            StaffHold.staff_id == staff_id,
            # A hold spans its appointment (buffers included), so these hold every
            # appointment meeting the window; led by the end, the staff-and-end index
            # starts the scan at the window.
            StaffHold.blocked_end > first,
            StaffHold.blocked_start < last,
            Appointment.status == ACTIVE,
            # Implied too (holds are the staff's, an appointment lasts at most MAX_SPAN):
            # stated so a plan that starts from appointments seeks the business's window
            # on its (business, start) index instead of reading every appointment.
            Appointment.business_id == business_id,
            Appointment.start_date_time > first - MAX_SPAN,
            Appointment.start_date_time < last,
            Appointment.end_date_time > first,
        )
        .order_by(Appointment.start_date_time, Appointment.id)
    ).all()


def _note_read(db: Database, feed_id: str, now: datetime) -> None:
    with db.write() as session:
        session.execute(
            update(CalendarFeed).where(CalendarFeed.id == feed_id).values(last_read_date_time=now)
        )


def _event(appointment: Appointment, uid_domain: str) -> ics.CalendarEvent:
    names = [str(customer["name"]) for customer in appointment.customers if customer.get("name")]
    summary = appointment.display_name + (": " + ", ".join(names) if names else "")
    location = appointment.details.get("serviceLocation")
    return ics.CalendarEvent(
        uid=ics.appointment_uid(appointment.id, uid_domain),
        sequence=appointment.ical_sequence,
        start=appointment.start_date_time,
        end=appointment.end_date_time,
        summary=summary,
        description=_description(appointment.details, appointment.customers),
        stamp=appointment.last_updated_date_time,
        location=_location_name(location),
    )


def _description(details: Mapping[str, Any], customers: Sequence[Mapping[str, Any]]) -> str:
    """The notes staff keep on the appointment, then each customer's own."""
    lines = []
    if details.get("serviceNotes"):
        lines.append(str(details["serviceNotes"]))
    for customer in customers:
        if customer.get("notes"):
            lines.append(f"{customer.get('name') or 'Customer'}: {customer['notes']}")
    return "\n".join(lines)


def _location_name(location: object) -> str | None:
    if isinstance(location, Mapping) and location.get("displayName"):
        return str(location["displayName"])
    return None
