"""Can this appointment be booked for this staff member? The write-side twin of slots.py.

The API may book any start and end (Graph does not require the slot grid), so this
checks one request directly with the same rules the slot generator applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from openvisit.scheduling.intervals import Interval, merge
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slots import Booking, ServiceSpec


def group_key(service_id: str, start: datetime, end: datetime) -> str:
    """The key attendees of one group sitting share (and nothing else shares)."""
    return f"{service_id}@{start.isoformat()}/{end.isoformat()}"


def seats_free(
    service: ServiceSpec, start: datetime, end: datetime, bookings: Sequence[Booking]
) -> int:
    """Seats left for `service` at [start, end) given one staff member's bookings.

    A booking of the same group sitting (same service, start and end) takes seats; any
    other booking whose buffered range meets this one's leaves no seat at all.
    """
    # Subtract buffers in UTC: zoned arithmetic is wall-clock arithmetic across DST.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    need = Interval(start - service.pre_buffer, end + service.post_buffer)
    taken = 0
    for booking in bookings:
        same_sitting = service.capacity > 1 and (
            booking.service_id,
            booking.start,
            booking.end,
        ) == (service.id, start, end)
        if same_sitting:
            taken += booking.seats
        elif booking.blocked.overlaps(need):
            return 0
    return max(service.capacity - taken, 0)


# Why a time cannot be booked, in words a person reads, and the short code metrics count.
TOO_SOON = "it starts sooner than the minimum lead time allows"
TOO_FAR = "it starts later than the maximum advance allows"
OUTSIDE_HOURS = "it is outside working hours"
ALREADY_BOOKED = "the time is already booked"
TOO_FEW_SEATS = "fewer seats are free than customers are named"
REFUSAL_CODES = {
    TOO_SOON: "lead_time",
    TOO_FAR: "advance_limit",
    OUTSIDE_HOURS: "outside_hours",
    ALREADY_BOOKED: "conflict",
    TOO_FEW_SEATS: "seats",
}


def refusal(
    service: ServiceSpec,
    start: datetime,
    end: datetime,
    bookings: Sequence[Booking],
    *,
    working: Sequence[Interval] | None,
    policy: BookingPolicy | None,
    now: datetime,
    seats: int = 1,
) -> str | None:
    """Why [start, end) cannot be booked for one staff member, or None when it can.

    `working=None` skips the hours rule and `policy=None` the lead-time and advance
    rules: what a manager may override. The overlap rule is never skipped.
    """
    if policy is not None:
        window = policy.start_window(now)
        if window is None or start < window.start:
            return TOO_SOON
        if start > window.end:
            return TOO_FAR
    if working is not None and not any(
        period.contains(Interval(start, end)) for period in merge(working)
    ):
        return OUTSIDE_HOURS
    free = seats_free(service, start, end, bookings)
    if free < seats:
        return TOO_FEW_SEATS if free else ALREADY_BOOKED
    return None
