"""getStaffAvailability (Graph), availableSlots and openvisit.slotCounts (OpenVisit).

Graph has no call that lists a service's bookable slots, so
`GET .../bookingBusinesses/{id}/services/{serviceId}/availableSlots` adds one under the
same conventions: `start`/`end` are dates (read in the caller's `timeZone`) or date-times
with an offset, and every slot lists its free staff members and seats.
`.../services/{serviceId}/openvisit.slotCounts` takes the same window and answers each
free start once with counts only: cheap for hundreds of staff (docs/api.md).
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, model_validator

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings.availability import list_slots, staff_availability
from openvisit.bookings.slot_listing import list_slot_counts
from openvisit.bookings.timezones import UnknownTimeZone, resolve_zone
from openvisit.errors import InvalidInput
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.responses import context_url
from openvisit.graph.schemas.appointment import (
    FIRST_YEAR,
    LAST_YEAR,
    DateTimeTimeZone,
    date_time_time_zone,
    parse_date_time_offset,
)
from openvisit.graph.schemas.types import GraphModel, Name
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.isotime import format_duration

router = APIRouter(
    prefix="/solutions/bookingBusinesses/{business_id}", tags=["bookingAvailability"]
)
Reader = Annotated[Caller, Depends(Require(access.AVAILABILITY_READ))]
MAX_STAFF = 100


class StaffAvailabilityBody(GraphModel):
    staff_ids: Annotated[list[Name], Field(min_length=1, max_length=MAX_STAFF)]
    start_date_time: DateTimeTimeZone
    end_date_time: DateTimeTimeZone

    @model_validator(mode="after")
    def _ordered(self) -> "StaffAvailabilityBody":
        if self.end_date_time <= self.start_date_time:
            raise ValueError("endDateTime must be after startDateTime")
        return self


@router.post("/getStaffAvailability")
def get_staff_availability(
    request: Request,
    business_id: str,
    body: StaffAvailabilityBody,
    runtime: RuntimeDep,
    _: Reader,
) -> Any:
    """Each staff member's time as available, busy, slotsAvailable or outOfOffice."""
    window = Interval(body.start_date_time, body.end_date_time)
    items = staff_availability(runtime.db, business_id, body.staff_ids, window)
    value = [
        {
            "staffId": staff_id,
            "availabilityItems": [
                {
                    "startDateTime": date_time_time_zone(item.interval.start),
                    "endDateTime": date_time_time_zone(item.interval.end),
                    "status": item.status,
                    "serviceId": item.service_id or "",
                }
                for item in labelled
            ],
        }
        for staff_id, labelled in items.items()
    ]
    # The docs pages show `staffAvailabilityItem`; the metadata and the SDK read `value`.
    return {
        "@odata.context": context_url(request, "Collection(microsoft.graph.staffAvailabilityItem)"),
        "value": value,
        "staffAvailabilityItem": value,
    }


class SlotWindow:
    """The query both slot listings take (a dependency): dates are read in `timeZone`,
    else in the business's zone, which the service looks up in the same read as the
    slots; `staffMemberId` narrows the listing to one staff member."""

    def __init__(
        self,
        start: Annotated[str, Query(description="A date (in timeZone) or a date-time with offset")],
        end: Annotated[str, Query(description="A date (inclusive, in timeZone) or a date-time")],
        time_zone: Annotated[str | None, Query(alias="timeZone", max_length=64)] = None,
        staff_member_id: Annotated[str | None, Query(alias="staffMemberId", max_length=255)] = None,
    ) -> None:
        self.start, self.end, self.time_zone = start, end, time_zone
        self.staff_member_id = staff_member_id
        self._chosen: list[tuple[str, tzinfo]] = []

    def asked(self) -> Interval | Callable[[str], Interval]:
        return self.interval(self.time_zone) if self.time_zone else self.interval

    @property
    def chosen(self) -> tuple[str, tzinfo]:
        """The zone name the dates were read in, and the zone: answers are shown in it."""
        return self._chosen[-1]

    def interval(self, zone_name: str) -> Interval:
        try:
            zone = resolve_zone(zone_name)
        except UnknownTimeZone as error:
            raise InvalidInput(
                "invalidTimeZone", target="timeZone", name="timeZone", detail=error
            ) from error
        self._chosen.append((zone_name, zone))
        first = _bound(self.start, "start", zone, end=False)
        last = _bound(self.end, "end", zone, end=True)
        if last <= first:
            raise InvalidInput("endBeforeStart", target="end", name="end", start="start")
        return Interval(first, last)


@router.get("/services/{service_id}/availableSlots")
def available_slots(
    request: Request,
    business_id: str,
    service_id: str,
    runtime: RuntimeDep,
    _: Reader,
    window: Annotated[SlotWindow, Depends()],
) -> Any:
    """Bookable slots of a service (OpenVisit extension), in the caller's time zone."""
    slots, names = list_slots(
        runtime.db,
        runtime.clock,
        business_id,
        service_id,
        window.asked(),
        staff_id=window.staff_member_id,
    )
    zone_name, zone = window.chosen

    def local(instant: datetime) -> dict[str, str]:
        wall = instant.astimezone(zone)
        return {"dateTime": f"{wall:%Y-%m-%dT%H:%M:%S}.0000000", "timeZone": zone_name}

    return {
        "@odata.context": context_url(request, "Collection(openvisit.availableSlot)"),
        "serviceId": service_id,
        "timeZone": zone_name,
        "value": [
            {
                "startDateTime": local(slot.start),
                "endDateTime": local(slot.end),
                "start": date_time_time_zone(slot.start)["dateTime"],
                "freeSeats": slot.free_seats,
                "staffMembers": [
                    {
                        "staffMemberId": option.staff_id,
                        "displayName": names.get(option.staff_id),
                        "freeSeats": option.free_seats,
                    }
                    for option in slot.staff
                ],
            }
            for slot in slots
        ],
    }


@router.get("/services/{service_id}/openvisit.slotCounts")
def slot_counts(
    request: Request,
    business_id: str,
    service_id: str,
    runtime: RuntimeDep,
    _: Reader,
    window: Annotated[SlotWindow, Depends()],
    include_staff_ids: Annotated[bool, Query(alias="includeStaffIds")] = False,
) -> Any:
    """Each free start of a service once, with the number of free staff (OpenVisit
    extension): what a booking page needs for a clinic of hundreds of staff. A group
    service adds the free seats and the largest party one booking can seat; staff ids
    come only with `includeStaffIds=true` (then at most 7 days)."""
    listing = list_slot_counts(
        runtime.db,
        runtime.clock,
        business_id,
        service_id,
        window.asked(),
        staff_id=window.staff_member_id,
        include_staff_ids=include_staff_ids,
    )
    zone_name, zone = window.chosen
    group = listing.capacity > 1
    value: list[dict[str, Any]] = []
    for item in listing.starts:
        entry: dict[str, Any] = {
            "start": item.start.astimezone(zone).isoformat(),
            "freeStaff": item.free_staff,
        }
        if group:
            entry["freeSeats"] = item.free_seats
            entry["largestParty"] = item.largest_party
        if include_staff_ids:
            entry["staffIds"] = item.staff_ids
        value.append(entry)
    return {
        "@odata.context": context_url(request, "Collection(openvisit.slotCount)"),
        "serviceId": listing.service_id,
        "timeZone": zone_name,
        "duration": format_duration(listing.duration),
        "maximumAttendeesCount": listing.capacity,
        "value": value,
    }


def _bound(text: str, name: str, zone: tzinfo, *, end: bool) -> datetime:
    """A date means local midnight in `zone` (the day after, for an inclusive end)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_date_time_offset(text, name)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # as for date-times; day + 1 may overflow
        raise InvalidInput(
            "dateOutOfRange", target=name, name=name, first=FIRST_YEAR, last=LAST_YEAR
        )
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone)
