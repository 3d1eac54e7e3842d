"""The compact slot listing: each free start of a service once, with how many can take it.

What a booking page needs to draw a calendar for a clinic of hundreds: every start at
which the service can be booked, the number of staff free then (and, for a group
service, the seats), and the staff ids only when the caller asks. A listed start is
bookable by a customer through `appointments.book` with the same rules (hours within
business hours, lead time, maximum advance, grid, buffers, seats), proven by
tests/bookings/test_slot_listing.py.

Four reads whatever the number of staff and days: business, service, staff, busy
time (as numbers, store/hold_ranges.py); a group service adds one for its own
sittings. Staff who share hours share one expansion of them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from openvisit.bookings.availability import (
    MAX_BUFFER,
    MAX_WINDOW,
    bookable_time,
    booking_policy,
    business_zone_name,
    service_spec,
)
from openvisit.bookings.records import require_business
from openvisit.clock import Clock
from openvisit.errors import InvalidInput, NotFound
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slot_counts import StaffTime, StartCount, count_starts
from openvisit.store import booking_queries
from openvisit.store.db import Database
from openvisit.store.hold_ranges import hold_ranges, micros_since_epoch
from openvisit.store.models import Business, Service, StaffMember

# With staff ids the answer grows with staff x starts (300 staff over a month is several
# megabytes), so a caller who wants them asks a week at a time.
MAX_WINDOW_WITH_STAFF = timedelta(days=7)


@dataclass(frozen=True)
class SlotListing:
    """The answer: the service's shape and its free starts (UTC) in the asked window."""

    service_id: str
    duration: timedelta
    capacity: int
    time_zone: str  # the business's zone name: where dates were read unless told otherwise
    starts: list[StartCount]


def list_slot_counts(
    db: Database,
    clock: Clock,
    business_id: str,
    service_id: str,
    window: Interval | Callable[[str], Interval],
    *,
    staff_id: str | None = None,
    include_staff_ids: bool = False,
    exclude_appointment: str | None = None,
) -> SlotListing:
    """Free starts of a service in `window` with counts (and staff ids when asked).

    As for `availability.list_slots`, `window` may be a function of the business's zone
    name, called inside the read. `exclude_appointment`: that appointment's own time
    counts as free, as it will be when it moves (the reschedule listing).
    """
    limit = MAX_WINDOW_WITH_STAFF if include_staff_ids else MAX_WINDOW
    if isinstance(window, Interval):
        _check_window(window, limit)
    with db.read() as session:
        business, service = _business_and_service(session, business_id, service_id)
        zone_name = business_zone_name(business)
        if not isinstance(window, Interval):
            window = window(zone_name)
            _check_window(window, limit)
        members = _members(session, business.id, service, staff_id)
        spec = service_spec(service)
        # Whole working periods count, so a slot may run past the window's end.
        reach = Interval(window.start - MAX_BUFFER, window.end + spec.duration + MAX_BUFFER)
        ids = [member.id for member in members]
        blocked = hold_ranges(session, ids, reach.start, reach.end)
        if exclude_appointment is not None:
            _free_own_time(
                blocked, booking_queries.holds_of_appointment(session, exclude_appointment)
            )
        sittings = (
            booking_queries.service_sittings(session, ids, spec.id, reach)
            if spec.capacity > 1
            else {}
        )
    hours: dict[Hashable, list[Interval]] = {}
    staff: list[StaffTime] = []
    for member in members:
        key = _hours_key(member)
        if key not in hours:
            schedule = StaffMember(
                use_business_hours=member.use_business_hours,
                time_zone=member.time_zone,
                working_hours=member.working_hours,
            )
            hours[key] = bookable_time(schedule, business, window)
        busy = blocked.get(member.id, [])
        own = sittings.get(member.id)
        if own:
            # Holds of the service's own sittings are offered by the engine as sittings.
            held = Counter(busy)
            held.subtract(hold for hold, _booking in own)
            busy = list(held.elements())
        staff.append(StaffTime(member.id, hours[key], busy, [booking for _, booking in own or ()]))
    starts = count_starts(
        spec,
        staff,
        booking_policy(service, business),
        now=clock.now(),
        window=window,
        with_staff_ids=include_staff_ids,
    )
    return SlotListing(service.id, spec.duration, spec.capacity, zone_name, starts)


def _free_own_time(
    blocked: dict[str, list[tuple[int, int]]], own: Sequence[tuple[str, datetime, datetime]]
) -> None:
    """Take one hold of the appointment's own off each of its staff's busy time."""
    for staff_id, start, end in own:
        held = blocked.get(staff_id)
        pair = (micros_since_epoch(start), micros_since_epoch(end))
        if held and pair in held:
            held.remove(pair)


def _check_window(window: Interval, limit: timedelta) -> None:
    if window.duration > limit:
        what = "the time range" + (
            " with includeStaffIds" if limit == MAX_WINDOW_WITH_STAFF else ""
        )
        raise InvalidInput("rangeTooLong", target="end", name="end", what=what, days=limit.days)


def _business_and_service(
    session: Session, business_id: str, service_id: str
) -> tuple[Business, Service]:
    business = require_business(session, business_id)
    service = session.get(Service, service_id)
    if service is None or service.business_id != business.id:
        raise NotFound("recordNotFound", kind="service", record=service_id, business=business_id)
    return business, service


def _members(
    session: Session, business_id: str, service: Service, only: str | None
) -> list[Row[Any]]:
    """Who the booking path would consider: `only`, else the service's staff (or all)."""
    wanted = [only] if only else list(dict.fromkeys(service.staff_member_ids or []))
    found = {
        member.id: member for member in booking_queries.staff_hours(session, business_id, wanted)
    }
    if only and only not in found:
        raise NotFound("staffNotFound", staff=only)
    if wanted:
        return [found[staff_id] for staff_id in wanted if staff_id in found]
    return sorted(found.values(), key=lambda member: (member.created_date_time, member.id))


def _hours_key(member: Row[Any]) -> Hashable:
    """Staff with equal keys have equal bookable time (most share the business's hours)."""
    if member.use_business_hours:
        return "business"
    return (member.time_zone, json.dumps(member.working_hours or [], sort_keys=True))
