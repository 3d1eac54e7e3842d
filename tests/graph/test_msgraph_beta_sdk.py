"""The official Microsoft Graph beta SDK (msgraph-beta-sdk) manages Bookings on OpenVisit.

The beta API has its own shapes: a bookingWorkTimeSlot is `start`/`end` (v1.0:
`startTime`/`endTime`). Each test serves the real app over HTTP and drives `/beta` only
through the beta SDK's `GraphServiceClient`, as an integrator on the beta endpoint would.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from msgraph_beta import GraphServiceClient
from msgraph_beta.generated.models.booking_business import BookingBusiness
from msgraph_beta.generated.models.booking_page_access_control import BookingPageAccessControl
from msgraph_beta.generated.models.booking_page_settings import BookingPageSettings
from msgraph_beta.generated.models.booking_scheduling_policy import BookingSchedulingPolicy
from msgraph_beta.generated.models.booking_staff_member import BookingStaffMember
from msgraph_beta.generated.models.booking_staff_membership_status import (
    BookingStaffMembershipStatus,
)
from msgraph_beta.generated.models.booking_staff_role import BookingStaffRole
from msgraph_beta.generated.models.booking_work_hours import BookingWorkHours
from msgraph_beta.generated.models.booking_work_time_slot import BookingWorkTimeSlot
from msgraph_beta.generated.models.bookings_availability import BookingsAvailability
from msgraph_beta.generated.models.bookings_availability_window import (
    BookingsAvailabilityWindow,
)
from msgraph_beta.generated.models.bookings_service_availability_type import (
    BookingsServiceAvailabilityType,
)
from msgraph_beta.generated.models.day_of_week import DayOfWeek
from msgraph_beta.generated.models.physical_address import PhysicalAddress
from msgraph_beta.generated.models.physical_address_type import PhysicalAddressType

from tests.graph import sdk_values
from tests.graph.sdk_client import (
    assert_round_trip,
    native_response,
    run_with_beta_client,
    unset_properties,
)
from tests.live import serve

pytestmark = pytest.mark.live

Scenario = Callable[[GraphServiceClient], Awaitable[Any]]


@pytest.fixture
def run_beta_sdk(app, make_token) -> Iterator[Callable[[Scenario], Any]]:
    """run_beta_sdk(scenario) runs `async def scenario(client)` against the server's /beta."""
    with serve(app) as base_url:
        yield lambda scenario: run_with_beta_client(base_url, make_token(), scenario)


def slot(start: int, end: int) -> BookingWorkTimeSlot:
    return BookingWorkTimeSlot(start=datetime.time(start), end=datetime.time(end))


def week(*open_days: DayOfWeek, hours: tuple[int, int] = (9, 17)) -> list[BookingWorkHours]:
    """Every day of the week: the open ones with one slot, the others closed (no slots)."""
    return [
        BookingWorkHours(day=day, time_slots=[slot(*hours)] if day in open_days else [])
        for day in DayOfWeek
    ]


def assert_hours_read_back(hours: list[BookingWorkHours] | None) -> None:
    """Every open day's slots carry start and end: the beta SDK reads None for any other name."""
    assert hours
    for day in hours:
        for each in day.time_slots or []:
            assert isinstance(each.start, datetime.time), day
            assert isinstance(each.end, datetime.time), day


WEEKDAYS = (DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday)


def full_business() -> BookingBusiness:
    return BookingBusiness(
        **sdk_values.BUSINESS,
        # postOfficeBox and type are members of the beta physicalAddress only.
        address=PhysicalAddress(
            street="4567 Main St",
            post_office_box="PO 12",
            type=PhysicalAddressType.Business,
            **sdk_values.ADDRESS,
        ),
        business_hours=week(*WEEKDAYS, DayOfWeek.Friday),
        scheduling_policy=BookingSchedulingPolicy(
            **sdk_values.SCHEDULING_POLICY,
            general_availability=BookingsAvailability(
                availability_type=BookingsServiceAvailabilityType.CustomWeeklyHours,
                business_hours=week(DayOfWeek.Monday, hours=(10, 12)),
            ),
            custom_availabilities=[
                BookingsAvailabilityWindow(
                    availability_type=BookingsServiceAvailabilityType.CustomWeeklyHours,
                    business_hours=week(DayOfWeek.Saturday, hours=(9, 13)),
                    start_date=datetime.date(2026, 12, 19),
                    end_date=datetime.date(2026, 12, 20),
                )
            ],
        ),
        booking_page_settings=BookingPageSettings(
            access_control=BookingPageAccessControl.Unrestricted,
            **sdk_values.BOOKING_PAGE_SETTINGS,
        ),
    )


def full_staff_member() -> BookingStaffMember:
    return BookingStaffMember(
        **sdk_values.STAFF_MEMBER,
        role=BookingStaffRole.Administrator,
        working_hours=week(*WEEKDAYS, hours=(8, 14)),
        membership_status=BookingStaffMembershipStatus.Active,
        color_index=7,  # beta only
    )


def test_beta_business_round_trips_work_hours_in_the_beta_shape(run_beta_sdk):
    written = full_business()
    assert unset_properties(written, except_for=sdk_values.BUSINESS_READ_ONLY) == set()

    async def scenario(client: GraphServiceClient) -> None:
        businesses = client.solutions.booking_businesses
        created = await businesses.post(written)
        assert created is not None and created.id
        assert_round_trip(written, created)
        business = businesses.by_booking_business_id(created.id)
        fetched = await business.get()
        assert_round_trip(written, fetched)
        assert_hours_read_back(fetched.business_hours)
        policy = fetched.scheduling_policy
        assert policy is not None and policy.general_availability is not None
        assert_hours_read_back(policy.general_availability.business_hours)

        change = BookingBusiness(business_hours=week(DayOfWeek.Saturday, hours=(10, 16)))
        updated = await business.patch(change, native_response())
        assert updated.status_code == 204, updated.text
        assert_round_trip(change, await business.get())

    run_beta_sdk(scenario)


STAFF_READ_ONLY = {"id", *sdk_values.TIMESTAMPS}


def test_beta_staff_member_round_trips_working_hours_and_color_index(run_beta_sdk):
    written = full_staff_member()
    assert unset_properties(written, except_for=STAFF_READ_ONLY) == set()

    async def scenario(client: GraphServiceClient) -> None:
        created_business = await client.solutions.booking_businesses.post(
            BookingBusiness(display_name="Alpine Ski House")
        )
        business = client.solutions.booking_businesses.by_booking_business_id(created_business.id)
        # Before the beta shape was served, this create answered 400 (no startTime).
        created = await business.staff_members.post(written)
        assert isinstance(created, BookingStaffMember)
        assert_round_trip(written, created)
        member = business.staff_members.by_booking_staff_member_id(created.id)
        fetched = await member.get()
        assert_round_trip(written, fetched)
        assert_hours_read_back(fetched.working_hours)
        listing = await business.staff_members.get()
        assert listing is not None and listing.value
        assert_round_trip(written, listing.value[0])

        change = BookingStaffMember(
            working_hours=week(DayOfWeek.Friday, hours=(12, 18)), color_index=2
        )
        assert await member.patch(change) is None
        assert_round_trip(change, await member.get())

        plain = await business.staff_members.post(
            BookingStaffMember(
                display_name="Sam", email_address="sam@example.test", role=BookingStaffRole.Viewer
            )
        )
        assert plain.color_index == 0  # the first colour of the palette, as Bookings starts

    run_beta_sdk(scenario)
