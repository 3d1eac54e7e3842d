"""A staff member's time, labelled the way Graph's getStaffAvailability reports it.

Within the asked window every instant gets one status:
- `busy`: an appointment (with its buffers) holds it;
- `slotsAvailable`: a group sitting holds it but still has free seats (with its service);
- `available`: working time with nothing booked;
- `outOfOffice`: outside working time.
Busy wins over working hours: a manager may book outside them, and that time is busy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from openvisit.scheduling.intervals import Interval, clip, merge, subtract
from openvisit.scheduling.slots import Booking

Status = Literal["available", "busy", "slotsAvailable", "outOfOffice"]


@dataclass(frozen=True, slots=True)
class AvailabilityItem:
    interval: Interval
    status: Status
    service_id: str | None = None


def availability_items(
    working: Sequence[Interval],
    bookings: Sequence[Booking],
    window: Interval,
    *,
    capacity: Mapping[str, int],
) -> list[AvailabilityItem]:
    """Label every instant of `window`; `capacity` gives seats per group service id."""
    open_groups: dict[tuple[str, Interval], int] = {}
    busy: list[Interval] = []
    for booking in bookings:
        seats = capacity.get(booking.service_id, 1)
        if seats > 1:
            key = (booking.service_id, booking.blocked)
            open_groups[key] = open_groups.get(key, 0) + booking.seats
        else:
            busy.append(booking.blocked)
    # Full sittings are busy time; decide them all before open sittings claim anything.
    busy += [
        interval
        for (service_id, interval), taken in open_groups.items()
        if taken >= capacity[service_id]
    ]
    items: list[AvailabilityItem] = []
    group_time: list[Interval] = []
    for (service_id, interval), taken in sorted(open_groups.items(), key=lambda kv: kv[0][1]):
        if taken >= capacity[service_id]:
            continue
        # Sittings of one staff member never overlap when booked through the service;
        # should stored data say otherwise, the earlier sitting keeps the shared time.
        for part in subtract(clip([interval], window), [*busy, *group_time]):
            items.append(AvailabilityItem(part, "slotsAvailable", service_id))
            group_time.append(part)
    busy_time = clip(busy, window)
    items += [AvailabilityItem(part, "busy") for part in busy_time]
    taken_time = merge([*busy_time, *group_time])
    free = subtract(clip(working, window), taken_time)
    items += [AvailabilityItem(part, "available") for part in free]
    away = subtract([window], merge([*free, *taken_time]))
    items += [AvailabilityItem(part, "outOfOffice") for part in away]
    return sorted(items, key=lambda item: item.interval)
