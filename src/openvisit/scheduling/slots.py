"""Bookable slots of a service: working time minus busy time, cut on the policy's grid.

Rules (each is what a customer or provider relies on):

- An appointment occupies its own time plus the service's pre- and post-buffers; that
  buffered range of one staff member never overlaps another of theirs. This is the same
  rule the database enforces, so what the engine offers can always be booked.
- The appointment itself (not its buffers) lies inside the staff member's working time;
  buffers may spill outside it (preparing before the day starts is the provider's call)
  but never into other appointments.
- Slots start on the policy's grid, counted from the start of each working period.
- A slot starts no sooner than now + minimum lead time and no later than now + maximum
  advance.
- A group service (capacity > 1) keeps offering a slot that already has attendees of the
  same service at the same time with the same staff member, until its seats are filled.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openvisit.scheduling.intervals import Interval, merge
from openvisit.scheduling.policy import BookingPolicy


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    id: str
    duration: timedelta
    pre_buffer: timedelta = timedelta(0)
    post_buffer: timedelta = timedelta(0)
    capacity: int = 1

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.capacity < 1:
            raise ValueError("a service needs a positive duration and at least one seat")
        if self.pre_buffer < timedelta(0) or self.post_buffer < timedelta(0):
            raise ValueError("buffers must not be negative")

    def blocked(self, start: datetime) -> Interval:
        """The buffered range an appointment of this service starting at `start` holds."""
        if start.tzinfo is not UTC:  # buffers are real minutes, not wall-clock ones
            start = start.astimezone(UTC)
        return Interval(start - self.pre_buffer, start + self.duration + self.post_buffer)


@dataclass(frozen=True, slots=True)
class Booking:
    """An existing appointment as busy time: its staff, its times and its buffers."""

    staff_id: str
    service_id: str
    start: datetime
    end: datetime
    pre_buffer: timedelta = timedelta(0)
    post_buffer: timedelta = timedelta(0)
    seats: int = 1

    def __post_init__(self) -> None:
        # In UTC, so buffers are real minutes and equal starts compare equal in any zone.
        if self.start.tzinfo is not UTC:
            object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.end.tzinfo is not UTC:
            object.__setattr__(self, "end", self.end.astimezone(UTC))

    @property
    def blocked(self) -> Interval:
        return Interval(self.start - self.pre_buffer, self.end + self.post_buffer)


@dataclass(frozen=True, slots=True)
class StaffWork:
    """A staff member's working time (UTC intervals, any order) for the asked window."""

    staff_id: str
    working: Sequence[Interval]


@dataclass(frozen=True, slots=True)
class StaffOption:
    staff_id: str
    free_seats: int


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    staff: tuple[StaffOption, ...]

    @property
    def free_seats(self) -> int:
        return max(option.free_seats for option in self.staff)


def available_slots(
    service: ServiceSpec,
    staff: Iterable[StaffWork],
    bookings: Iterable[Booking],
    policy: BookingPolicy,
    *,
    now: datetime,
    window: Interval,
) -> list[Slot]:
    """Slots of `service` starting inside `window`, across `staff`, sorted by start."""
    starts = policy.start_window(now)
    if starts is None:
        return []
    by_staff: dict[str, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_staff[booking.staff_id].append(booking)
    options: dict[datetime, list[StaffOption]] = defaultdict(list)
    for member in staff:
        for start, seats in _staff_slots(
            service, member, by_staff[member.staff_id], policy, starts, window
        ):
            options[start].append(StaffOption(member.staff_id, seats))
    return [
        Slot(start, start + service.duration, tuple(options[start])) for start in sorted(options)
    ]


def _staff_slots(
    service: ServiceSpec,
    member: StaffWork,
    bookings: Sequence[Booking],
    policy: BookingPolicy,
    starts: Interval,
    window: Interval,
) -> list[tuple[datetime, int]]:
    joinable = _joinable_groups(service, bookings)
    groups = [b for b in bookings if b.service_id == service.id and (b.start, b.end) in joinable]
    blocked = merge(
        b.blocked
        for b in bookings
        if (b.start, b.end) not in joinable or b.service_id != service.id
    )
    blocked_starts = [item.start for item in blocked]
    found: list[tuple[datetime, int]] = []
    for period in merge(member.working):
        start = period.start
        # Jump the grid forward to the first start the window and the policy allow.
        earliest = max(window.start, starts.start)
        if start < earliest:
            steps = -(-(earliest - start) // policy.time_slot_interval)
            start += steps * policy.time_slot_interval
        latest = min(window.end, starts.end)
        while start + service.duration <= period.end and start <= latest:
            if start < window.end:
                seats = _seats_at(service, start, joinable, groups, blocked, blocked_starts)
                if seats:
                    found.append((start, seats))
            start += policy.time_slot_interval
    return found


def _joinable_groups(
    service: ServiceSpec, bookings: Sequence[Booking]
) -> dict[tuple[datetime, datetime], int]:
    """Seats taken per (start, end) by group bookings of this very service."""
    if service.capacity == 1:
        return {}
    taken: dict[tuple[datetime, datetime], int] = defaultdict(int)
    for booking in bookings:
        if booking.service_id == service.id:
            taken[(booking.start, booking.end)] += booking.seats
    return taken


def _seats_at(
    service: ServiceSpec,
    start: datetime,
    joinable: dict[tuple[datetime, datetime], int],
    groups: Sequence[Booking],
    blocked: list[Interval],
    blocked_starts: list[datetime],
) -> int:
    need = service.blocked(start)
    index = bisect_right(blocked_starts, need.start) - 1
    for candidate in blocked[max(index, 0) :]:
        if candidate.start >= need.end:
            break
        if candidate.overlaps(need):
            return 0
    key = (start, start + service.duration)
    # A group of this service at a different time blocks this slot with the times and
    # buffers it was booked with (the service may have changed since), also when this
    # slot joins a group of its own.
    for other in groups:
        if (other.start, other.end) != key and other.blocked.overlaps(need):
            return 0
    if key in joinable:
        return max(service.capacity - joinable[key], 0)
    return service.capacity
