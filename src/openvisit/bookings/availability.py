"""Stored Graph shapes -> scheduling inputs: zones, weekly hours, policies, busy time.

The engine in scheduling/ knows nothing of Graph JSON; this module is the one
translation between the two, shared by slot listing and booking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.bookings.records import require_business
from openvisit.bookings.timezones import resolve_zone
from openvisit.clock import Clock
from openvisit.errors import InvalidInput, NotFound
from openvisit.scheduling.hours import TimeRange, WorkingHours, working_intervals
from openvisit.scheduling.intervals import Interval, intersect
from openvisit.scheduling.isotime import parse_duration, parse_time_of_day
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slots import ServiceSpec, Slot, StaffWork, available_slots
from openvisit.scheduling.staff_availability import AvailabilityItem, availability_items
from openvisit.store.booking_queries import staff_bookings
from openvisit.store.db import Database
from openvisit.store.models import Business, Service, StaffMember

WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
DEFAULT_POLICY = BookingPolicy()
# Buffers are at most a day each (the API refuses more), so bookings that can touch a
# window start at most this far outside it.
MAX_BUFFER = timedelta(days=1)


def business_zone_name(business: Business) -> str:
    """The business's zone name: bookingPageSettings.businessTimeZone, else UTC."""
    return str((business.booking_page_settings or {}).get("businessTimeZone") or "UTC")


def business_zone(business: Business) -> ZoneInfo:
    return resolve_zone(business_zone_name(business))


def weekly_ranges(hours: Iterable[Mapping[str, Any]]) -> dict[int, list[TimeRange]]:
    """Graph bookingWorkHours (camelCase JSON) -> weekday -> local time ranges."""
    weekly: dict[int, list[TimeRange]] = {}
    for day in hours:
        weekly[WEEKDAYS[day["day"]]] = [
            TimeRange(parse_time_of_day(slot["startTime"]), parse_time_of_day(slot["endTime"]))
            for slot in day.get("timeSlots", [])
        ]
    return weekly


def business_hours(business: Business) -> WorkingHours:
    return WorkingHours(
        zone=business_zone(business), weekly=weekly_ranges(business.business_hours or [])
    )


def staff_hours(member: StaffMember, business: Business) -> WorkingHours:
    """A staff member's own hours in their own zone, or the business's when they say so."""
    if member.use_business_hours:
        return business_hours(business)
    zone = resolve_zone(member.time_zone) if member.time_zone else business_zone(business)
    return WorkingHours(zone=zone, weekly=weekly_ranges(member.working_hours or []))


def bookable_time(member: StaffMember, business: Business, window: Interval) -> list[Interval]:
    """When customers may book this staff member: their hours within business hours."""
    own = working_intervals(staff_hours(member, business), window)
    return intersect(own, working_intervals(business_hours(business), window))


def booking_policy(service: Service, business: Business) -> BookingPolicy:
    """The service's scheduling policy when it has one, else the business's."""
    raw = service.scheduling_policy or business.scheduling_policy or {}

    def duration(name: str, default: timedelta) -> timedelta:
        value = raw.get(name)
        return parse_duration(value) if value else default

    return BookingPolicy(
        time_slot_interval=duration("timeSlotInterval", DEFAULT_POLICY.time_slot_interval),
        minimum_lead_time=duration("minimumLeadTime", DEFAULT_POLICY.minimum_lead_time),
        maximum_advance=duration("maximumAdvance", DEFAULT_POLICY.maximum_advance),
        allow_staff_selection=raw.get("allowStaffSelection", True) is not False,
    )


def service_spec(service: Service) -> ServiceSpec:
    return ServiceSpec(
        id=service.id,
        duration=timedelta(seconds=service.default_duration_seconds),
        pre_buffer=timedelta(seconds=service.pre_buffer_seconds),
        post_buffer=timedelta(seconds=service.post_buffer_seconds),
        capacity=service.maximum_attendees_count,
    )


MAX_WINDOW = timedelta(days=62)


def list_slots(
    db: Database,
    clock: Clock,
    business_id: str,
    service_id: str,
    window: Interval | Callable[[str], Interval],
    *,
    staff_id: str | None = None,
) -> tuple[list[Slot], dict[str, str]]:
    """Bookable slots of a service in `window`, and the names of the staff they list.

    A caller whose dates are read in the business's zone passes `window` as a function of
    that zone's name; it is called inside the same read, so the zone costs no extra trip.
    Four statements whatever the number of staff and days: business, service, staff,
    and their bookings.
    """
    if isinstance(window, Interval):
        _check_window(window)
    with db.read() as session:
        business = require_business(session, business_id)
        if not isinstance(window, Interval):
            window = window(business_zone_name(business))
            _check_window(window)
        service = session.get(Service, service_id)
        if service is None or service.business_id != business.id:
            raise NotFound(
                "recordNotFound", kind="service", record=service_id, business=business_id
            )
        members = _members(session, business.id, service.staff_member_ids, staff_id)
        spec = service_spec(service)
        # Slots may run past the window's end (whole working periods count), so bookings
        # up to a service length plus a buffer beyond it can still collide.
        reach = Interval(window.start - MAX_BUFFER, window.end + spec.duration + MAX_BUFFER)
        busy = staff_bookings(session, [member.id for member in members], reach)
    work = [StaffWork(member.id, bookable_time(member, business, window)) for member in members]
    everyone = [booking for bookings in busy.values() for booking in bookings]
    slots = available_slots(
        spec, work, everyone, booking_policy(service, business), now=clock.now(), window=window
    )
    return slots, {member.id: member.display_name for member in members}


def staff_availability(
    db: Database, business_id: str, staff_ids: Sequence[str], window: Interval
) -> dict[str, list[AvailabilityItem]]:
    """getStaffAvailability: each staff member's window labelled busy, available, etc."""
    _check_window(window)
    with db.read() as session:
        business = require_business(session, business_id)
        members = _members(session, business.id, staff_ids, None, require_all=True)
        busy = staff_bookings(session, [member.id for member in members], window)
        rows = session.execute(
            select(Service.id, Service.maximum_attendees_count).where(
                Service.business_id == business.id, Service.maximum_attendees_count > 1
            )
        ).all()
        capacity = {str(service_id): int(seats) for service_id, seats in rows}
    return {
        member.id: availability_items(
            working_intervals(staff_hours(member, business), window),
            busy[member.id],
            window,
            capacity=capacity,
        )
        for member in members
    }


def _check_window(window: Interval) -> None:
    if window.duration > MAX_WINDOW:
        raise InvalidInput("rangeTooLong", name="end", what="the time range", days=MAX_WINDOW.days)


def _members(
    session: Session,
    business_id: str,
    wanted: Sequence[str],
    only: str | None,
    *,
    require_all: bool = False,
) -> list[StaffMember]:
    """Staff members of the business: `only` if given, else `wanted` (empty: everyone)."""
    ids = [only] if only else list(dict.fromkeys(wanted))
    query = select(StaffMember).where(StaffMember.business_id == business_id)
    if ids:
        query = query.where(StaffMember.id.in_(ids))
    found = {member.id: member for member in session.scalars(query)}
    missing = [staff_id for staff_id in ids if staff_id not in found]
    if missing and (require_all or only):
        raise NotFound("staffNotFound", staff=missing[0])
    if ids:
        return [found[staff_id] for staff_id in ids if staff_id in found]
    return sorted(found.values(), key=lambda member: (member.created_date_time, member.id))
