"""getStaffAvailability (Graph) and availableSlots (an OpenVisit extension).

Graph has no call that lists a service's bookable slots, so
`GET .../bookingBusinesses/{id}/services/{serviceId}/availableSlots` adds one under the
same conventions: `start`/`end` are dates (read in the caller's `timeZone`) or date-times
with an offset, and every slot lists its free staff members and seats.
"""

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, model_validator

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings.availability import list_slots, staff_availability
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


@router.get("/services/{service_id}/availableSlots")
def available_slots(
    request: Request,
    business_id: str,
    service_id: str,
    runtime: RuntimeDep,
    _: Reader,
    start: Annotated[str, Query(description="A date (in timeZone) or a date-time with offset")],
    end: Annotated[str, Query(description="A date (inclusive, in timeZone) or a date-time")],
    time_zone: Annotated[str | None, Query(alias="timeZone", max_length=64)] = None,
    staff_member_id: Annotated[str | None, Query(alias="staffMemberId", max_length=255)] = None,
) -> Any:
    """Bookable slots of a service (OpenVisit extension), in the caller's time zone."""
    # Dates are read in timeZone, else in the business's zone, which the service looks up
    # in the same read as the slots.
    chosen: list[tuple[str, tzinfo]] = []

    def window_in(zone_name: str) -> Interval:
        try:
            zone = resolve_zone(zone_name)
        except UnknownTimeZone as error:
            raise InvalidInput(
                f"Invalid value for 'timeZone': {error}", target="timeZone"
            ) from error
        chosen.append((zone_name, zone))
        first, last = _bound(start, "start", zone, end=False), _bound(end, "end", zone, end=True)
        if last <= first:
            raise InvalidInput("Invalid value for 'end': it must be after start.", target="end")
        return Interval(first, last)

    slots, names = list_slots(
        runtime.db,
        runtime.clock,
        business_id,
        service_id,
        window_in(time_zone) if time_zone else window_in,
        staff_id=staff_member_id,
    )
    zone_name, zone = chosen[-1]

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


def _bound(text: str, name: str, zone: tzinfo, *, end: bool) -> datetime:
    """A date means local midnight in `zone` (the day after, for an inclusive end)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_date_time_offset(text, name)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # as for date-times; day + 1 may overflow
        raise InvalidInput(
            f"Invalid value for '{name}': must lie between the years {FIRST_YEAR} and {LAST_YEAR}.",
            target=name,
        )
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone)
