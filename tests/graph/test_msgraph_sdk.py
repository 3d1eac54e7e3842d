"""The official Microsoft Graph SDK (msgraph-sdk) manages Bookings resources on OpenVisit.

Each test serves the real app over HTTP and drives it only through `GraphServiceClient`,
the way an integrator who already targets Microsoft Bookings would: create with every
writable property the SDK models, read every one of them back, list, update, delete, and
see failures as `ODataError`.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.answer_input_type import AnswerInputType
from msgraph.generated.models.booking_business import BookingBusiness
from msgraph.generated.models.booking_custom_question import BookingCustomQuestion
from msgraph.generated.models.booking_customer import BookingCustomer
from msgraph.generated.models.booking_customer_base import BookingCustomerBase
from msgraph.generated.models.booking_page_access_control import BookingPageAccessControl
from msgraph.generated.models.booking_page_settings import BookingPageSettings
from msgraph.generated.models.booking_price_type import BookingPriceType
from msgraph.generated.models.booking_question_assignment import BookingQuestionAssignment
from msgraph.generated.models.booking_reminder import BookingReminder
from msgraph.generated.models.booking_reminder_recipients import BookingReminderRecipients
from msgraph.generated.models.booking_scheduling_policy import BookingSchedulingPolicy
from msgraph.generated.models.booking_service import BookingService
from msgraph.generated.models.booking_staff_member import BookingStaffMember
from msgraph.generated.models.booking_staff_membership_status import (
    BookingStaffMembershipStatus,
)
from msgraph.generated.models.booking_staff_role import BookingStaffRole
from msgraph.generated.models.booking_work_hours import BookingWorkHours
from msgraph.generated.models.booking_work_time_slot import BookingWorkTimeSlot
from msgraph.generated.models.bookings_availability import BookingsAvailability
from msgraph.generated.models.bookings_availability_window import BookingsAvailabilityWindow
from msgraph.generated.models.bookings_service_availability_type import (
    BookingsServiceAvailabilityType,
)
from msgraph.generated.models.day_of_week import DayOfWeek
from msgraph.generated.models.location import Location
from msgraph.generated.models.location_type import LocationType
from msgraph.generated.models.location_unique_id_type import LocationUniqueIdType
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.outlook_geo_coordinates import OutlookGeoCoordinates
from msgraph.generated.models.phone import Phone
from msgraph.generated.models.phone_type import PhoneType
from msgraph.generated.models.physical_address import PhysicalAddress
from msgraph.generated.solutions.booking_businesses.item.booking_business_item_request_builder import (  # noqa: E501
    BookingBusinessItemRequestBuilder,
)
from msgraph.generated.solutions.booking_businesses.item.customers.customers_request_builder import (  # noqa: E501
    CustomersRequestBuilder,
)
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import PageIterator

from tests.factories import make_business, make_customer
from tests.graph import sdk_values
from tests.graph.sdk_client import (
    assert_round_trip,
    items,
    native_response,
    prefer,
    present,
    raw,
    run_with_client,
    set_properties,
    unset_properties,
)
from tests.live import serve

pytestmark = pytest.mark.live

Scenario = Callable[[GraphServiceClient], Awaitable[Any]]
INCLUDE_UNKNOWN_ENUM_MEMBERS = "include-unknown-enum-members"
TIMESTAMPS = sdk_values.TIMESTAMPS


@pytest.fixture
def base_url(app) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
def run_sdk(base_url, make_token) -> Callable[..., Any]:
    """run_sdk(scenario, token=...) runs `async def scenario(client)` against the server."""

    def run(scenario: Scenario, *, token: str | None = None) -> Any:
        return run_with_client(base_url, token or make_token(), scenario)

    return run


def business_api(
    client: GraphServiceClient, business_id: str | None
) -> BookingBusinessItemRequestBuilder:
    return client.solutions.booking_businesses.by_booking_business_id(present(business_id))


async def new_business(client: GraphServiceClient) -> BookingBusinessItemRequestBuilder:
    created = present(await client.solutions.booking_businesses.post(full_business()))
    return business_api(client, created.id)


async def expect_odata_error(call: Awaitable[Any]) -> ODataError:
    with pytest.raises(ODataError) as raised:
        await call
    return raised.value


async def assert_not_found(call: Awaitable[Any]) -> None:
    error = await expect_odata_error(call)
    assert error.response_status_code == 404
    assert error.error is not None and error.error.code == "itemNotFound"


# --- building blocks ----------------------------------------------------------------


def slot(start: int, end: int) -> BookingWorkTimeSlot:
    return BookingWorkTimeSlot(start_time=datetime.time(start), end_time=datetime.time(end))


def week(*open_days: DayOfWeek, hours: tuple[int, int] = (9, 17)) -> list[BookingWorkHours]:
    """Every day of the week: the open ones with one slot, the others closed (no slots)."""
    return [
        BookingWorkHours(day=day, time_slots=[slot(*hours)] if day in open_days else [])
        for day in DayOfWeek
    ]


MONDAY_TO_THURSDAY = (DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday)


def full_scheduling_policy() -> BookingSchedulingPolicy:
    return BookingSchedulingPolicy(
        **sdk_values.SCHEDULING_POLICY,
        general_availability=BookingsAvailability(
            availability_type=BookingsServiceAvailabilityType.CustomWeeklyHours,
            business_hours=week(DayOfWeek.Monday, hours=(10, 12)),
        ),
        custom_availabilities=[
            BookingsAvailabilityWindow(
                availability_type=BookingsServiceAvailabilityType.NotBookable,
                business_hours=[],
                start_date=datetime.date(2026, 12, 24),
                end_date=datetime.date(2026, 12, 26),
            )
        ],
    )


def address(street: str = "4567 Main St") -> PhysicalAddress:
    return PhysicalAddress(street=street, **sdk_values.ADDRESS)


def full_business() -> BookingBusiness:
    return BookingBusiness(
        **sdk_values.BUSINESS,
        address=address(),
        business_hours=week(*MONDAY_TO_THURSDAY, DayOfWeek.Friday),
        scheduling_policy=full_scheduling_policy(),
        booking_page_settings=BookingPageSettings(
            access_control=BookingPageAccessControl.Unrestricted,
            **sdk_values.BOOKING_PAGE_SETTINGS,
        ),
    )


def full_staff_member(
    role: BookingStaffRole = BookingStaffRole.Administrator,
) -> BookingStaffMember:
    return BookingStaffMember(
        **sdk_values.STAFF_MEMBER,
        role=role,
        working_hours=week(*MONDAY_TO_THURSDAY, hours=(8, 14)),
        membership_status=BookingStaffMembershipStatus.Active,
    )


def full_service(staff_id: str, question_id: str) -> BookingService:
    return BookingService(
        display_name="Video consultation",
        description="A 45-minute video visit with a clinician.",
        notes="Staff-only: check the intake form first.",
        additional_information="Join five minutes early from a quiet room.",
        default_duration=datetime.timedelta(minutes=45),
        pre_buffer=datetime.timedelta(minutes=5),
        post_buffer=datetime.timedelta(minutes=10),
        default_price=45.5,
        default_price_type=BookingPriceType.FixedPrice,
        default_reminders=[
            BookingReminder(
                message="Your visit is tomorrow.",
                offset=datetime.timedelta(days=1),
                recipients=BookingReminderRecipients.Customer,
            ),
            BookingReminder(
                message="Visit in one hour.",
                offset=datetime.timedelta(hours=1),
                recipients=BookingReminderRecipients.AllAttendees,
            ),
        ],
        default_location=Location(
            display_name="Fourth Coffee Clinic, room 2",
            location_email_address="room2@fourthcoffee.example",
            address=address("1 Clinic Way"),
            coordinates=OutlookGeoCoordinates(
                accuracy=5.0,
                altitude=180.5,
                altitude_accuracy=2.5,
                latitude=47.6415,
                longitude=-122.1275,
            ),
            location_uri="https://fourthcoffee.example/rooms/2",
            location_type=LocationType.BusinessAddress,
            unique_id="room-2",
            unique_id_type=LocationUniqueIdType.Private,
        ),
        is_location_online=True,
        maximum_attendees_count=3,
        staff_member_ids=[staff_id],
        custom_questions=[BookingQuestionAssignment(question_id=question_id, is_required=True)],
        scheduling_policy=full_scheduling_policy(),
        sms_notifications_enabled=True,
        is_hidden_from_customers=False,
        is_anonymous_join_enabled=True,
        is_customer_allowed_to_manage_booking=True,
        language_tag="fr-FR",
    )


def full_customer() -> BookingCustomer:
    return BookingCustomer(
        display_name="Jordan Lee",
        email_address="jordan.lee@example.test",
        phones=[
            Phone(number="+1 206 555 0147", type=PhoneType.Mobile, language="en", region="US"),
            Phone(number="+1 206 555 0199", type=PhoneType.Business),
        ],
        addresses=[address("12 Elm Rd"), address("99 Harbor Ave")],
    )


# --- businesses ---------------------------------------------------------------------


def test_business_round_trips_every_writable_property(run_sdk):
    written = full_business()
    assert unset_properties(written, except_for=sdk_values.BUSINESS_READ_ONLY) == set()

    async def scenario(client: GraphServiceClient) -> None:
        created = await client.solutions.booking_businesses.post(written)
        assert created is not None and created.id
        assert_round_trip(written, created)

        fetched = present(await business_api(client, created.id).get())
        assert_round_trip(written, fetched)
        assert fetched.id == created.id
        assert fetched.is_published is False
        assert fetched.public_url is None
        assert fetched.created_date_time is not None
        assert fetched.created_date_time.tzinfo is not None
        assert fetched.last_updated_date_time is not None

    run_sdk(scenario)


def test_business_lifecycle_list_update_publish_delete(run_sdk, base_url):
    async def scenario(client: GraphServiceClient) -> None:
        businesses = client.solutions.booking_businesses
        created = await raw(
            businesses.post(BookingBusiness(display_name="Alpine Ski House"), native_response())
        )
        assert created.status_code == 201
        business_id = created.json()["id"]
        other = present(await businesses.post(full_business()))
        business = business_api(client, business_id)

        listing = items(await businesses.get())
        # Graph's list answers only id and displayName for each business.
        assert {(item.id, item.display_name) for item in listing} == {
            (business_id, "Alpine Ski House"),
            (other.id, "Fourth Coffee Clinic"),
        }
        for item in listing:
            assert isinstance(item, BookingBusiness)
            assert set_properties(item) == {"id", "display_name"}

        change = BookingBusiness(
            display_name="Alpine Ski House Clinic",
            phone="+1 425 555 0123",
            business_hours=week(DayOfWeek.Saturday, hours=(10, 16)),
        )
        updated = await raw(business.patch(change, native_response()))
        assert (updated.status_code, updated.content) == (204, b"")
        assert await business.patch(BookingBusiness(email="hello@alpine.example")) is None
        fetched = present(await business.get())
        assert_round_trip(change, fetched)
        assert fetched.email == "hello@alpine.example"
        assert fetched.default_currency_iso == "USD"  # untouched by either PATCH

        published = await raw(business.publish.post(native_response()))
        assert published.status_code == 204
        fetched = present(await business.get())
        assert fetched.is_published is True
        assert fetched.public_url == f"{base_url}/book/{business_id}/"

        unpublished = await raw(business.unpublish.post(native_response()))
        assert unpublished.status_code == 204
        fetched = present(await business.get())
        assert (fetched.is_published, fetched.public_url) == (False, None)

        deleted = await raw(business.delete(native_response()))
        assert deleted.status_code == 204
        await assert_not_found(business.get())
        remaining = items(await businesses.get())
        assert [item.id for item in remaining] == [other.id]

    run_sdk(scenario)


# --- services -----------------------------------------------------------------------

SERVICE_READ_ONLY = {"id", "web_url", *TIMESTAMPS}


def test_service_round_trips_every_writable_property_and_lifecycle(run_sdk):
    async def scenario(client: GraphServiceClient) -> None:
        business = await new_business(client)
        staff = present(await business.staff_members.post(full_staff_member()))
        question = present(
            await business.custom_questions.post(
                BookingCustomQuestion(display_name="Reason for the visit?")
            )
        )
        written = full_service(present(staff.id), present(question.id))
        assert unset_properties(written, except_for=SERVICE_READ_ONLY) == set()

        created = present(await business.services.post(written))
        assert_round_trip(written, created)
        service_id = present(created.id)
        assert created.web_url and service_id in created.web_url
        service = business.services.by_booking_service_id(service_id)
        fetched = await service.get()
        assert_round_trip(written, fetched)

        minimal = present(await business.services.post(BookingService(display_name="Walk-in")))
        by_id = {item.id: item for item in items(await business.services.get())}
        assert by_id.keys() == {created.id, minimal.id}
        assert_round_trip(written, by_id[created.id])
        # Bookings' defaults for what the client left out.
        assert minimal.default_duration == datetime.timedelta(minutes=30)
        assert (minimal.pre_buffer, minimal.post_buffer) == (datetime.timedelta(0),) * 2

        change = BookingService(
            display_name="Video consultation (long)",
            default_duration=datetime.timedelta(hours=1, minutes=30),
            default_price=60.0,
            default_price_type=BookingPriceType.StartingAt,
            staff_member_ids=[],
            custom_questions=[
                BookingQuestionAssignment(question_id=question.id, is_required=False)
            ],
            is_hidden_from_customers=True,
        )
        assert await service.patch(change) is None
        fetched = present(await service.get())
        assert_round_trip(change, fetched)
        assert fetched.description == written.description  # untouched by the PATCH

        deleted = await raw(service.delete(native_response()))
        assert deleted.status_code == 204
        await assert_not_found(service.get())
        remaining = items(await business.services.get())
        assert [item.id for item in remaining] == [minimal.id]

    run_sdk(scenario)


# --- staff members ------------------------------------------------------------------

STAFF_READ_ONLY = {"id", *TIMESTAMPS}


def test_staff_member_round_trips_every_writable_property_and_lifecycle(run_sdk):
    written = full_staff_member()
    assert unset_properties(written, except_for=STAFF_READ_ONLY) == set()

    async def scenario(client: GraphServiceClient) -> None:
        business = await new_business(client)
        created = await business.staff_members.post(written)
        # v1.0 types the set as bookingStaffMemberBase: the SDK needs @odata.type to build
        # a BookingStaffMember and keep its properties.
        assert isinstance(created, BookingStaffMember)
        assert_round_trip(written, created)
        member = business.staff_members.by_booking_staff_member_base_id(present(created.id))
        assert_round_trip(written, await member.get())

        listing = items(await business.staff_members.get())
        assert [type(item) for item in listing] == [BookingStaffMember]
        assert_round_trip(written, listing[0])

        change = BookingStaffMember(
            display_name="Dr. Amara Osei-Mensah",
            time_zone="America/Los_Angeles",
            use_business_hours=True,
            working_hours=week(DayOfWeek.Friday, hours=(12, 18)),
            is_email_notification_enabled=False,
        )
        updated = await raw(member.patch(change, native_response()))
        assert updated.status_code == 204
        fetched = await member.get()
        assert isinstance(fetched, BookingStaffMember)
        assert_round_trip(change, fetched)
        assert fetched.email_address == written.email_address  # untouched by the PATCH

        await member.delete()
        await assert_not_found(member.get())
        assert items(await business.staff_members.get()) == []

    run_sdk(scenario)


def test_evolvable_staff_roles_need_the_prefer_header(run_sdk):
    """`scheduler` and `teamMember` follow unknownFutureValue in bookingStaffRole: Graph
    returns them only to clients that send `Prefer: include-unknown-enum-members`."""
    include_unknown = prefer(INCLUDE_UNKNOWN_ENUM_MEMBERS)

    async def scenario(client: GraphServiceClient) -> None:
        business = await new_business(client)
        created = await business.staff_members.post(
            full_staff_member(BookingStaffRole.Scheduler), include_unknown
        )
        assert isinstance(created, BookingStaffMember)
        assert created.role is BookingStaffRole.Scheduler
        member = business.staff_members.by_booking_staff_member_base_id(present(created.id))

        async def role(config: RequestConfiguration[Any] | None = None) -> BookingStaffRole | None:
            fetched = await member.get(config)
            assert isinstance(fetched, BookingStaffMember)
            return fetched.role

        async def listed_roles(
            config: RequestConfiguration[Any] | None = None,
        ) -> list[BookingStaffRole | None]:
            listing = items(await business.staff_members.get(config))
            return [item.role for item in listing if isinstance(item, BookingStaffMember)]

        assert await role() is BookingStaffRole.UnknownFutureValue
        assert await role(include_unknown) is BookingStaffRole.Scheduler
        assert await listed_roles() == [BookingStaffRole.UnknownFutureValue]
        assert await listed_roles(include_unknown) == [BookingStaffRole.Scheduler]

        await member.patch(BookingStaffMember(role=BookingStaffRole.TeamMember))
        assert await role() is BookingStaffRole.UnknownFutureValue
        assert await role(include_unknown) is BookingStaffRole.TeamMember

        # Roles from before unknownFutureValue come back as written, header or not.
        await member.patch(BookingStaffMember(role=BookingStaffRole.Viewer))
        assert await role() is BookingStaffRole.Viewer

    run_sdk(scenario)


# --- customers ----------------------------------------------------------------------

CUSTOMER_READ_ONLY = {"id", *TIMESTAMPS}


def test_customer_round_trips_every_writable_property_and_lifecycle(run_sdk):
    written = full_customer()
    assert unset_properties(written, except_for=CUSTOMER_READ_ONLY) == set()
    assert unset_properties(present(written.phones)[0]) == set()
    assert unset_properties(present(written.addresses)[0]) == set()

    async def scenario(client: GraphServiceClient) -> None:
        business = await new_business(client)
        created = await business.customers.post(written)
        assert isinstance(created, BookingCustomer)
        assert_round_trip(written, created)
        customer = business.customers.by_booking_customer_base_id(present(created.id))
        assert_round_trip(written, await customer.get())

        listing = items(await business.customers.get())
        assert [type(item) for item in listing] == [BookingCustomer]
        assert_round_trip(written, listing[0])

        # Customers and custom questions answer a PATCH with 200 and the entity (the other
        # Bookings resources answer 204).
        change = BookingCustomer(
            display_name="Jordan Lee-Park",
            phones=[Phone(number="+1 425 555 0110", type=PhoneType.Home)],
            addresses=[],
        )
        response = await raw(customer.patch(change, native_response()))
        assert response.status_code == 200
        updated = await customer.patch(BookingCustomer(email_address="jordan@example.test"))
        assert isinstance(updated, BookingCustomer)
        assert_round_trip(change, updated)
        assert updated.email_address == "jordan@example.test"
        assert_round_trip(updated, await customer.get())

        await customer.delete()
        await assert_not_found(customer.get())
        assert items(await business.customers.get()) == []

    run_sdk(scenario)


def test_page_iterator_walks_every_customer(run_sdk, runtime):
    business_id = make_business(runtime)
    total = runtime.page_size + 25
    expected = {make_customer(runtime, business_id, f"Customer {n:03}") for n in range(total)}

    async def scenario(client: GraphServiceClient) -> list[str]:
        first_page = present(await business_api(client, business_id).customers.get())
        assert len(items(first_page)) == runtime.page_size
        assert first_page.odata_next_link

        seen: list[str] = []

        def collect(customer: BookingCustomer) -> bool:
            assert isinstance(customer, BookingCustomer) and customer.display_name
            seen.append(present(customer.id))
            return True  # keep iterating

        iterator = PageIterator(first_page, client.request_adapter)
        await iterator.iterate(collect)
        return seen

    seen = run_sdk(scenario)

    assert len(seen) == total
    assert set(seen) == expected


def display_name(customer: BookingCustomerBase) -> str | None:
    assert isinstance(customer, BookingCustomer)
    return customer.display_name


def test_odata_query_options_from_the_sdk(run_sdk, runtime):
    business_id = make_business(runtime)
    for name in ("Ada", "Alan", "Barbara", "Grace", "Linus"):
        make_customer(runtime, business_id, name, email_address=f"{name.lower()}@example.test")
    Query = CustomersRequestBuilder.CustomersRequestBuilderGetQueryParameters

    async def scenario(client: GraphServiceClient) -> None:
        customers = business_api(client, business_id).customers

        query = Query(filter="startswith(displayName, 'A')", orderby=["displayName desc"])
        page = present(await customers.get(RequestConfiguration(query_parameters=query)))
        assert [display_name(item) for item in items(page)] == ["Alan", "Ada"]

        query = Query(top=2, skip=1, count=True, orderby=["displayName"])
        page = present(await customers.get(RequestConfiguration(query_parameters=query)))
        assert [display_name(item) for item in items(page)] == ["Alan", "Barbara"]
        assert page.odata_count == 5

        query = Query(select=["displayName"], filter="displayName eq 'Grace'")
        [grace] = items(await customers.get(RequestConfiguration(query_parameters=query)))
        assert isinstance(grace, BookingCustomer)
        assert grace.id and grace.display_name == "Grace"
        assert grace.email_address is None  # not selected

    run_sdk(scenario)


# --- custom questions ---------------------------------------------------------------

QUESTION_READ_ONLY = {"id", *TIMESTAMPS}


def test_custom_question_round_trips_every_writable_property_and_lifecycle(run_sdk):
    written = BookingCustomQuestion(
        display_name="How would you like to meet?",
        answer_input_type=AnswerInputType.RadioButton,
        answer_options=["Video", "Phone", "In person"],
    )
    assert unset_properties(written, except_for=QUESTION_READ_ONLY) == set()

    async def scenario(client: GraphServiceClient) -> None:
        business = await new_business(client)
        created = await raw(business.custom_questions.post(written, native_response()))
        assert created.status_code == 201
        question = business.custom_questions.by_booking_custom_question_id(created.json()["id"])
        fetched = present(await question.get())
        assert_round_trip(written, fetched)

        text_question = present(
            await business.custom_questions.post(
                BookingCustomQuestion(
                    display_name="Anything else?", answer_input_type=AnswerInputType.Text
                )
            )
        )
        by_id = {item.id: item for item in items(await business.custom_questions.get())}
        assert by_id.keys() == {fetched.id, text_question.id}
        assert_round_trip(written, by_id[fetched.id])

        change = BookingCustomQuestion(
            display_name="Preferred way to meet?", answer_options=["Video", "Phone"]
        )
        updated = present(await question.patch(change))  # 200 with the entity, as for customers
        assert_round_trip(change, updated)
        assert updated.answer_input_type is AnswerInputType.RadioButton
        assert_round_trip(updated, await question.get())

        await question.delete()
        await assert_not_found(question.get())
        assert [item.id for item in items(await business.custom_questions.get())] == [
            text_question.id
        ]

    run_sdk(scenario)


# --- errors -------------------------------------------------------------------------


def test_missing_scope_surfaces_as_odata_error_403(run_sdk, runtime, make_token):
    business_id = make_business(runtime, "Read Only Clinic")

    async def scenario(client: GraphServiceClient) -> None:
        businesses = client.solutions.booking_businesses
        # Reading is allowed...
        assert [item.id for item in items(await businesses.get())] == [business_id]
        business = business_api(client, business_id)
        assert present(await business.get()).display_name == "Read Only Clinic"

        # ...every write is refused with Graph's error envelope.
        writes: list[Callable[[], Awaitable[Any]]] = [
            lambda: businesses.post(BookingBusiness(display_name="Nope")),
            lambda: business.patch(BookingBusiness(display_name="Nope")),
            lambda: business.services.post(BookingService(display_name="Nope")),
            lambda: business.customers.post(BookingCustomer(display_name="Nope")),
            business.delete,
        ]
        for write in writes:
            error = await expect_odata_error(write())
            assert error.response_status_code == 403
            assert error.error is not None
            assert error.error.code == "accessDenied"
            assert "Bookings" in (error.error.message or "")
            inner = error.error.inner_error
            assert inner is not None and inner.request_id  # what support asks for
            assert isinstance(inner.date, datetime.datetime)
        assert present(await business.get()).display_name == "Read Only Clinic"

    run_sdk(scenario, token=make_token("Bookings.Read.All"))


def test_unknown_token_surfaces_as_odata_error_401(run_sdk):
    async def scenario(client: GraphServiceClient) -> None:
        error = await expect_odata_error(client.solutions.booking_businesses.get())
        assert error.response_status_code == 401
        assert error.error is not None and error.error.code == "InvalidAuthenticationToken"

    run_sdk(scenario, token="not-a-real-token")
