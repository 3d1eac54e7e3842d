"""A New York clinic for booking tests: two doctors, a buffered visit, a group class."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.bookings.views import AppointmentView
from openvisit.runtime import Runtime
from tests.factories import make_business, make_service, make_staff

CONSUMER = Authority(actor="test")
MANAGER = Authority(actor="test", override_hours=True)
WEEKDAY_HOURS = [
    {"day": day, "timeSlots": [{"startTime": "09:00:00", "endTime": "17:00:00"}]}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
]
# The test clock is Monday 2026-11-23 14:00Z (09:00 in New York); Tuesday 10:00 EST:
TUESDAY_10 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
# Ids by role: "business", "ann", "bob", "visit", "group" (tests add their own keys).
Clinic = dict[str, str]


def make_clinic(runtime: Runtime) -> Clinic:
    business = make_business(
        runtime,
        business_hours=WEEKDAY_HOURS,
        booking_page_settings={"businessTimeZone": "America/New_York"},
        scheduling_policy={
            "timeSlotInterval": "PT30M",
            "minimumLeadTime": "PT2H",
            "maximumAdvance": "P30D",
            "allowStaffSelection": True,
        },
    )
    ann = make_staff(runtime, business, "Dr. Ann")
    bob = make_staff(runtime, business, "Dr. Bob")
    visit = make_service(
        runtime,
        business,
        "Visit",
        pre_buffer_seconds=600,
        post_buffer_seconds=600,
        staff_member_ids=[ann, bob],
    )
    group = make_service(
        runtime,
        business,
        "Group",
        default_duration_seconds=3600,
        maximum_attendees_count=3,
        staff_member_ids=[ann],
    )
    return {"business": business, "ann": ann, "bob": bob, "visit": visit, "group": group}


def book_at(
    runtime: Runtime,
    clinic: Clinic,
    start: datetime = TUESDAY_10,
    staff: Sequence[str] = ("ann",),
    service: str = "visit",
    *,
    authority: Authority = CONSUMER,
    **kwargs: Any,
) -> AppointmentView:
    request = AppointmentRequest(
        service_id=clinic[service],
        start=start,
        staff_ids=tuple(clinic[name] for name in staff),
        **kwargs,
    )
    return book(runtime.db, runtime.clock, clinic["business"], request, authority=authority)
