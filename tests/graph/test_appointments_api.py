"""bookingAppointment over HTTP: both Graph shapes, UTC times, the booking rules' status
codes, scopes, idempotent creates, reschedule, cancel and calendarView."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response  # the client starlette.testclient is built on
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.booking_appointment import BookingAppointment
from msgraph.generated.models.booking_customer_information import BookingCustomerInformation
from msgraph.generated.models.booking_price_type import BookingPriceType
from msgraph.generated.models.booking_question_answer import BookingQuestionAnswer
from msgraph.generated.models.booking_reminder import BookingReminder
from msgraph.generated.models.booking_reminder_recipients import BookingReminderRecipients
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.location import Location
from msgraph.generated.solutions.booking_businesses.item.appointments.item.cancel.cancel_post_request_body import (  # noqa: E501
    CancelPostRequestBody,
)
from msgraph.generated.solutions.booking_businesses.item.calendar_view.calendar_view_request_builder import (  # noqa: E501
    CalendarViewRequestBuilder,
)
from msgraph.graph_service_client import GraphServiceClient

from openvisit.graph.schemas.appointment import (
    format_date_time,
    parse_date_time_time_zone,
)
from openvisit.runtime import Runtime
from tests.bookings.clinic import Clinic, make_clinic
from tests.conftest import TokenFactory
from tests.factories import (
    BUSINESSES,
    make_customer,
    make_question,
    make_service,
)
from tests.graph.sdk_client import assert_round_trip, graph_properties, run_with_client
from tests.live import serve

READ = "Bookings.Read.All"
APPOINTMENTS = "BookingsAppointment.ReadWrite.All"
MANAGE = "Bookings.Manage.All"
# The test clock is Monday 2026-11-23 14:00Z (09:00 in New York).
TUESDAY_10 = "2026-11-24T15:00:00.0000000Z"  # 10:00 EST
SATURDAY_10 = "2026-11-28T15:00:00.0000000Z"
# What an appointment carries when the request leaves these out.
DEFAULTS = {
    "isLocationOnline": False,
    "smsNotificationsEnabled": False,
    "optOutOfCustomerEmail": False,
    "price": 0.0,
    "priceType": "undefined",
    "reminders": [],
    "serviceNotes": None,
    "additionalInformation": None,
    "serviceLocation": None,
    "appointmentLabel": None,
    "joinWebUrl": None,
    "anonymousJoinWebUrl": None,
    "customerTimeZone": None,
    "maximumAttendeesCount": 1,
    "filledAttendeesCount": 1,
}
T = TypeVar("T")
FLAT = ("customerId", "customerName", "customerEmailAddress", "customerPhone", "customerNotes")


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    """tests/bookings/clinic.py's New York clinic, plus the URLs these tests use."""
    place = make_clinic(runtime)
    return {
        **place,
        "url": f"{BUSINESSES}/{place['business']}/appointments",
        "view": f"{BUSINESSES}/{place['business']}/calendarView",
    }


def utc(text: str) -> dict[str, str]:
    return {"dateTime": text, "timeZone": "UTC"}


def body(
    clinic: Clinic, start: str = TUESDAY_10, staff: Sequence[str] = ("ann",), **extra: Any
) -> dict[str, Any]:
    return {
        "serviceId": clinic["visit"],
        "startDateTime": utc(start),
        "staffMemberIds": [clinic[name] for name in staff],
        **extra,
    }


def run_with_live_client(
    app: FastAPI, token: str, scenario: Callable[[GraphServiceClient], Awaitable[T]]
) -> T:
    with serve(app) as base_url:
        return run_with_client(base_url, token, scenario)


def bearer(make_token: TokenFactory, scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(scopes)}"}


def create(
    client: TestClient, auth: dict[str, str], clinic: Clinic, **kwargs: Any
) -> dict[str, Any]:
    response = client.post(clinic["url"], json=body(clinic, **kwargs), headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def view(
    client: TestClient, auth: dict[str, str], clinic: Clinic, start: str, end: str
) -> Response:
    return client.get(f"{clinic['view']}?start={start}&end={end}", headers=auth)


# --- create and read back --------------------------------------------------------------


def test_create_in_the_v1_shape_reads_back_every_property(client, auth, runtime, clinic):
    customer = make_customer(runtime, clinic["business"], "Jordan Miller")
    location = {
        "displayName": "Clinic, room 4",
        "address": {"street": "1 Main St", "city": "Buffalo", "state": "NY"},
    }
    answers = [{"questionId": "q1", "question": "Age?", "answer": "25", "isRequired": False}]
    sent = {
        "@odata.type": "#microsoft.graph.bookingAppointment",
        "serviceId": clinic["visit"],
        "serviceName": "ignored: computed from serviceId",
        "startDateTime": {
            "@odata.type": "#microsoft.graph.dateTimeTimeZone",
            "dateTime": "2026-11-24T15:00:00.0000000+00:00",
            "timeZone": "UTC",
        },
        "endDateTime": utc("2026-11-24T15:45:00.0000000+00:00"),
        "staffMemberIds": [clinic["bob"]],
        "customerTimeZone": "America/Chicago",
        "preBuffer": "PT5M",
        "postBuffer": "0:15:00",
        "customers@odata.type": "#Collection(microsoft.graph.bookingCustomerInformation)",
        "customers": [
            {
                "@odata.type": "#microsoft.graph.bookingCustomerInformation",
                "customerId": customer,
                "phone": "213-555-0199",
                "notes": "Knee",
                "timeZone": "America/Chicago",
                "location": location,
                "customQuestionAnswers": answers,
            }
        ],
        "serviceNotes": "Bring the X-rays.",
        "additionalInformation": "Park at the back.",
        "isLocationOnline": True,
        "optOutOfCustomerEmail": True,
        "smsNotificationsEnabled": True,
        "price": 40.0,
        "priceType@odata.type": "#microsoft.graph.bookingPriceType",
        "priceType": "fixedPrice",
        "reminders": [{"offset": "P1D", "recipients": "customer", "message": "Tomorrow!"}],
        "serviceLocation": location,
        "appointmentLabel": "follow-up",
        "isCustomerAllowedToManageBooking": False,
        "anonymousJoinWebUrl": "https://meet.example.test/anon",  # read-only: computed
        "maximumAttendeesCount": 99,  # read-only: ignored
        "filledAttendeesCount": 42,  # read-only: ignored
    }

    created = client.post(clinic["url"], json=sent, headers=auth)

    assert created.status_code == 201, created.text
    appointment = created.json()
    business = clinic["business"]
    assert appointment["@odata.context"] == (
        f"http://testserver/v1.0/$metadata#solutions/bookingBusinesses('{business}')"
        "/appointments/$entity"
    )
    fetched = client.get(f"{clinic['url']}/{appointment['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == appointment
    expected_location = {
        "displayName": "Clinic, room 4",
        "locationEmailAddress": None,
        "address": {
            "street": "1 Main St",
            "city": "Buffalo",
            "state": "NY",
            "countryOrRegion": None,
            "postalCode": None,
        },
        # Graph answers coordinates of nulls, not null, when none were sent.
        "coordinates": dict.fromkeys(
            ("accuracy", "altitude", "altitudeAccuracy", "latitude", "longitude")
        ),
        "locationUri": None,
        "locationType": None,
        "uniqueId": None,
        "uniqueIdType": None,
    }
    assert appointment["joinWebUrl"].startswith("http://testserver/visits/")
    assert appointment["anonymousJoinWebUrl"].startswith("http://testserver/join/")
    assert {k: v for k, v in appointment.items() if k != "@odata.context"} == {
        "id": appointment["id"],
        "selfServiceAppointmentId": appointment["id"],
        "serviceId": clinic["visit"],
        "serviceName": "Visit",
        "startDateTime": utc("2026-11-24T15:00:00.0000000Z"),
        "endDateTime": utc("2026-11-24T15:45:00.0000000Z"),
        "duration": "PT45M",
        "preBuffer": "PT5M",
        "postBuffer": "PT15M",
        "staffMemberIds": [clinic["bob"]],
        "customers": [
            {
                "@odata.type": "#microsoft.graph.bookingCustomerInformation",
                "customerId": customer,
                "name": "Jordan Miller",  # from the bookingCustomer
                "emailAddress": None,
                "phone": "213-555-0199",
                "notes": "Knee",
                "location": expected_location,
                "timeZone": "America/Chicago",
                "customQuestionAnswers": [
                    {
                        "questionId": "q1",
                        "question": "Age?",
                        "answerInputType": None,
                        "answerOptions": None,
                        "isRequired": False,
                        "answer": "25",
                        "selectedOptions": None,
                    }
                ],
            }
        ],
        "customerTimeZone": "America/Chicago",
        "customerName": "Jordan Miller",
        "customerEmailAddress": None,
        "customerPhone": "213-555-0199",
        "customerNotes": "Knee",
        "maximumAttendeesCount": 1,
        "filledAttendeesCount": 1,
        "serviceNotes": "Bring the X-rays.",
        "additionalInformation": "Park at the back.",
        "isLocationOnline": True,
        "smsNotificationsEnabled": True,
        "optOutOfCustomerEmail": True,
        "price": 40.0,
        "priceType": "fixedPrice",
        "reminders": [{"message": "Tomorrow!", "offset": "P1D", "recipients": "customer"}],
        "serviceLocation": expected_location,
        "appointmentLabel": "follow-up",
        "isCustomerAllowedToManageBooking": False,
        # Online: the meeting's links, the provider's and the consumer's (tests/meetings).
        "joinWebUrl": appointment["joinWebUrl"],
        "anonymousJoinWebUrl": appointment["anonymousJoinWebUrl"],
        "createdDateTime": "2026-11-23T14:00:00Z",
        "lastUpdatedDateTime": "2026-11-23T14:00:00Z",
    }


def test_properties_left_out_take_graph_and_service_defaults(client, auth, runtime, clinic):
    closed = make_service(
        runtime,
        clinic["business"],
        "Closed",
        staff_member_ids=[clinic["ann"]],
        is_customer_allowed_to_manage_booking=False,
    )
    minimal = {"serviceId": clinic["visit"], "startDateTime": utc(TUESDAY_10)}

    appointment = client.post(clinic["url"], json=minimal, headers=auth).json()
    other = client.post(
        clinic["url"],
        json={"serviceId": closed, "startDateTime": utc("2026-11-25T15:00:00Z")},
        headers=auth,
    ).json()

    assert appointment["staffMemberIds"] == [clinic["ann"]]  # picked: the service's first
    assert appointment["endDateTime"] == utc("2026-11-24T15:30:00.0000000Z")
    assert (appointment["duration"], appointment["preBuffer"]) == ("PT30M", "PT10M")
    assert appointment["customers"] == []
    assert {key: appointment[key] for key in DEFAULTS} == DEFAULTS
    assert appointment["selfServiceAppointmentId"] == appointment["id"]
    assert appointment["isCustomerAllowedToManageBooking"] is True  # the service's default
    assert other["isCustomerAllowedToManageBooking"] is False
    assert not {"start", "end", "customerId", "customerLocation"} & set(appointment)  # beta
    assert appointment["customerName"] is None  # no customer


@pytest.mark.parametrize("root", ["/beta/solutions/bookingBusinesses", "/beta/bookingBusinesses"])
def test_beta_flat_shape_becomes_one_customer_and_comes_back_flat(client, auth, clinic, root):
    sent = {
        "serviceId": clinic["visit"],
        "start": utc("2026-11-24T15:00:00.0000000+00:00"),
        "end": utc("2026-11-24T15:30:00.0000000+00:00"),
        "customerName": "Jordan Miller",
        "customerEmailAddress": "jordanm@example.test",
        "customerPhone": "213-555-0199",
        "customerNotes": "Please be on time.",
        "customerLocation": {"displayName": "Home"},
        "invoiceId": "1001",
        "invoiceStatus": "open",
        "invoiceAmount": 10.0,
        "invoiceDate": utc("2026-11-24T15:30:00.0000000+00:00"),
        "invoiceUrl": "theInvoiceUrl",
    }
    url = f"{root}/{clinic['business']}/appointments"

    created = client.post(url, json=sent, headers=auth)

    assert created.status_code == 201, created.text
    beta = created.json()
    assert beta["@odata.context"].startswith("http://testserver/beta/$metadata#")
    assert beta["start"] == utc("2026-11-24T15:00:00.0000000Z")
    assert beta["end"] == utc("2026-11-24T15:30:00.0000000Z")
    assert not {"startDateTime", "endDateTime"} & set(beta)  # v1.0 names
    assert {key: beta[key] for key in FLAT} == {
        "customerId": None,
        "customerName": "Jordan Miller",
        "customerEmailAddress": "jordanm@example.test",
        "customerPhone": "213-555-0199",
        "customerNotes": "Please be on time.",
    }
    assert beta["customerLocation"]["displayName"] == "Home"
    assert (beta["invoiceId"], beta["invoiceStatus"], beta["invoiceAmount"]) == ("1001", "open", 10)
    assert beta["invoiceDate"] == utc("2026-11-24T15:30:00.0000000Z")
    assert beta["invoiceUrl"] == "theInvoiceUrl"
    v1 = client.get(f"{clinic['url']}/{beta['id']}", headers=auth).json()
    assert v1["customers"][0]["name"] == "Jordan Miller"
    assert v1["customers"][0]["emailAddress"] == "jordanm@example.test"
    assert v1["customers"][0]["notes"] == "Please be on time."
    assert v1["customerName"] == "Jordan Miller"  # in both versions' CSDL
    assert not {"start", "end", "customerId", "customerLocation", "invoiceId"} & set(v1)


def test_beta_customers_win_over_the_flat_fields(client, auth, clinic):
    sent = {
        **body(clinic),
        "customers": [{"name": "From customers"}],
        "customerName": "From the flat field",
    }

    created = client.post(
        f"/beta/solutions/bookingBusinesses/{clinic['business']}/appointments",
        json=sent,
        headers=auth,
    ).json()

    assert [customer["name"] for customer in created["customers"]] == ["From customers"]
    assert created["customerName"] == "From customers"


# --- dateTimeTimeZone --------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        {"dateTime": "2026-11-24T10:00:00.0000000", "timeZone": "Eastern Standard Time"},
        {"dateTime": "2026-11-24T10:00:00", "timeZone": "America/New_York"},
        {"dateTime": "2026-11-24T07:00:00.0000000", "timeZone": "pacific standard time"},
        # An offset inside dateTime wins over timeZone.
        {"dateTime": "2026-11-24T10:00:00.0000000-05:00", "timeZone": "Pacific Standard Time"},
        {"dateTime": "2026-11-24T15:00:00Z", "timeZone": "Tokyo Standard Time"},
        {"dateTime": "2026-11-24T15:00", "timeZone": "UTC"},
    ],
)
def test_start_in_any_zone_comes_back_in_utc_with_seven_digits(client, auth, clinic, start):
    sent = {**body(clinic), "startDateTime": start}

    created = client.post(clinic["url"], json=sent, headers=auth)

    assert created.status_code == 201, created.text
    assert created.json()["startDateTime"] == {
        "dateTime": "2026-11-24T15:00:00.0000000Z",
        "timeZone": "UTC",
    }
    assert created.json()["endDateTime"]["dateTime"] == "2026-11-24T15:30:00.0000000Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"dateTime": "2026-05-01T12:00:00.1234567Z"},
            datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
        ),
        (
            {"dateTime": "2026-05-01T12:00:00.5+02:00"},
            datetime(2026, 5, 1, 10, 0, 0, 500000, tzinfo=UTC),
        ),
        (
            {"dateTime": "2026-05-01T14:00:00+0200", "timeZone": ""},
            datetime(2026, 5, 1, 12, tzinfo=UTC),
        ),
        # Clocks turned back: 01:30 happens twice in New York; the first one is meant.
        (
            {"dateTime": "2026-11-01T01:30:00", "timeZone": "America/New_York"},
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
    ],
)
def test_date_time_time_zone_parses_fractions_offsets_and_folds(value, expected):
    parsed = parse_date_time_time_zone(value)

    assert parsed == expected
    assert format_date_time(parsed).endswith(f".{expected.microsecond:06d}0Z")


@pytest.mark.parametrize(
    ("start", "says"),
    [
        ({"dateTime": "2026-11-24T10:00:00", "timeZone": "Mars/Olympus_Mons"}, "Mars/Olympus"),
        ({"dateTime": "2026-11-24T10:00:00"}, "needs a timeZone"),
        ({"dateTime": "24/11/2026 10:00", "timeZone": "UTC"}, "not an ISO 8601"),
        ({"dateTime": "2026-02-30T10:00:00", "timeZone": "UTC"}, "not a valid date"),
        ({"dateTime": "2026-11-24T10:00:00.12345678Z"}, "not an ISO 8601"),
        ({"timeZone": "UTC"}, "dateTime is required"),
        ("2026-11-24T15:00:00Z", "must be an object"),
        ({"dateTime": "2026-03-08T02:30:00", "timeZone": "America/New_York"}, "does not exist"),
        ({"dateTime": "9999-12-31T23:00:00-05:00", "timeZone": "UTC"}, "between the years"),
        ({"dateTime": "2026-11-24T10:00:00+24:00"}, "not a UTC offset"),
    ],
)
def test_an_unreadable_start_is_400_naming_the_property(client, auth, clinic, start, says):
    response = client.post(
        clinic["url"], json={**body(clinic), "startDateTime": start}, headers=auth
    )

    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("Invalid value for 'startDateTime'"), message
    assert says in message


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"serviceId": None}, "serviceId"),
        ({"startDateTime": None}, "startDateTime"),
        ({"endDateTime": utc("2026-11-24T14:30:00Z")}, "endDateTime"),
        ({"endDateTime": utc(TUESDAY_10)}, "endDateTime"),
        ({"serviceId": "no-such-service"}, "serviceId"),
        ({"staffMemberIds": ["no-such-staff"]}, "staffMemberIds"),
        ({"priceType": "expensive"}, "priceType"),
        ({"preBuffer": "P2D"}, "preBuffer"),
        ({"customers": [{"emailAddress": "not-an-address"}]}, "customers.0.emailAddress"),
    ],
)
def test_invalid_bodies_are_400_naming_the_property(client, auth, clinic, change, names):
    sent = {key: value for key, value in {**body(clinic), **change}.items() if value is not None}

    response = client.post(clinic["url"], json=sent, headers=auth)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "badRequest"
    assert f"'{names}'" in response.json()["error"]["message"]


def test_explicit_nulls_for_required_properties_are_refused(client, auth, clinic):
    response = client.post(
        clinic["url"], json={**body(clinic), "staffMemberIds": None}, headers=auth
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The property 'staffMemberIds' cannot be null."


# --- booking rules, scopes, idempotency ---------------------------------------------------


def test_an_overlapping_booking_is_409_with_a_clear_message(client, auth, clinic):
    create(client, auth, clinic)

    response = client.post(
        clinic["url"], json=body(clinic, start="2026-11-24T15:15:00Z"), headers=auth
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "Dr. Ann" in error["message"]
    assert "already booked" in error["message"]


def test_required_custom_questions_must_be_answered(client, auth, runtime, clinic):
    question = make_question(runtime, clinic["business"], "Reason?")
    asked = make_service(
        runtime,
        clinic["business"],
        "Asked",
        staff_member_ids=[clinic["ann"]],
        custom_questions=[{"questionId": question, "isRequired": True}],
    )
    unanswered = {**body(clinic), "serviceId": asked, "customers": [{"name": "Jo"}]}
    answered = {
        **unanswered,
        "customers": [
            {"name": "Jo", "customQuestionAnswers": [{"questionId": question, "answer": "Pain"}]}
        ],
    }

    refused = client.post(clinic["url"], json=unanswered, headers=auth)
    accepted = client.post(clinic["url"], json=answered, headers=auth)

    assert refused.status_code == 400
    assert "required question" in refused.json()["error"]["message"]
    assert accepted.status_code == 201, accepted.text


def test_reading_needs_a_token_and_writing_needs_appointment_scope(client, make_token, clinic):
    anonymous = client.post(clinic["url"], json=body(clinic))
    reader = client.post(clinic["url"], json=body(clinic), headers=bearer(make_token, READ))
    writer = client.post(clinic["url"], json=body(clinic), headers=bearer(make_token, APPOINTMENTS))
    appointment = writer.json()["id"]
    item = f"{clinic['url']}/{appointment}"

    assert anonymous.status_code == 401
    assert reader.status_code == 403
    assert APPOINTMENTS in reader.json()["error"]["message"]
    assert writer.status_code == 201
    for method, url in [
        ("PATCH", item),
        ("DELETE", item),
        ("POST", f"{item}/cancel"),
    ]:
        denied = client.request(method, url, json={}, headers=bearer(make_token, READ))
        assert denied.status_code == 403, (method, url)
    for url in [clinic["url"], item, f"{clinic['view']}?start={TUESDAY_10}&end={SATURDAY_10}"]:
        assert client.get(url).status_code == 401
        assert client.get(url, headers=bearer(make_token, READ)).status_code == 200


def test_managers_book_outside_hours_only_when_they_ask_and_never_over_a_booking(
    client, make_token, clinic
):
    saturday = body(clinic, start=SATURDAY_10)
    override = {"Prefer": "openvisit.override-booking-rules"}

    consumer = client.post(
        clinic["url"], json=saturday, headers={**bearer(make_token, APPOINTMENTS), **override}
    )
    unasked = client.post(clinic["url"], json=saturday, headers=bearer(make_token, MANAGE))
    manager = client.post(
        clinic["url"], json=saturday, headers={**bearer(make_token, MANAGE), **override}
    )
    again = client.post(
        clinic["url"], json=saturday, headers={**bearer(make_token, MANAGE), **override}
    )
    soon = client.post(  # inside the two-hour lead time
        clinic["url"],
        json=body(clinic, start="2026-11-23T15:00:00Z"),
        headers={**bearer(make_token, MANAGE), **override},
    )

    assert consumer.status_code == 403
    assert "openvisit.override-booking-rules" in consumer.json()["error"]["message"]
    assert unasked.status_code == 409  # Bookings.Manage.All alone no longer overrides
    assert "outside working hours" in unasked.json()["error"]["message"]
    assert manager.status_code == 201, manager.text
    assert manager.headers["Preference-Applied"] == "openvisit.override-booking-rules"
    assert again.status_code == 409
    assert "already booked" in again.json()["error"]["message"]
    assert soon.status_code == 201, soon.text


@pytest.mark.parametrize("header", ["Idempotency-Key", "client-request-id"])
def test_a_retried_create_returns_the_first_appointment(client, auth, clinic, header):
    headers = {**auth, header: "retry-1"}

    first = client.post(clinic["url"], json=body(clinic), headers=headers)
    # Same request written differently (key order, annotations, offset form): same body.
    retried = client.post(
        clinic["url"],
        json={
            "staffMemberIds": [clinic["ann"]],
            "startDateTime": {"timeZone": "UTC", "dateTime": "2026-11-24T10:00:00-05:00"},
            "@odata.type": "#microsoft.graph.bookingAppointment",
            "serviceId": clinic["visit"],
        },
        headers=headers,
    )
    different = client.post(clinic["url"], json=body(clinic, staff=("bob",)), headers=headers)

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert different.status_code == 409
    assert "different request" in different.json()["error"]["message"]
    listed = client.get(clinic["url"], headers=auth).json()["value"]
    assert [item["id"] for item in listed] == [first.json()["id"]]


def test_idempotency_keys_are_per_header_and_bounded(client, auth, clinic):
    same_value = {**auth, "Idempotency-Key": "k"}
    first = client.post(clinic["url"], json=body(clinic), headers=same_value)
    other_header = client.post(
        clinic["url"],
        json=body(clinic, staff=("bob",)),
        headers={**auth, "client-request-id": "k"},
    )
    too_long = client.post(
        clinic["url"], json=body(clinic), headers={**auth, "Idempotency-Key": "k" * 256}
    )

    assert first.status_code == 201
    assert other_header.status_code == 201
    assert too_long.status_code == 400
    assert "Idempotency-Key" in too_long.json()["error"]["message"]


# --- update, cancel, delete ---------------------------------------------------------------


def test_patch_reschedules_and_get_shows_the_new_time(client, auth, clinic):
    created = create(client, auth, clinic, serviceNotes="keep me", price=10.0)
    url = f"{clinic['url']}/{created['id']}"

    moved = client.patch(
        url,
        json={
            "@odata.type": "#microsoft.graph.bookingAppointment",
            "startDateTime": utc("2026-11-24T16:00:00.0000000+00:00"),
            "additionalInformation": "added",
            "price": None,
        },
        headers=auth,
    )

    assert moved.status_code == 204
    assert moved.content == b""
    after = client.get(url, headers=auth).json()
    assert after["startDateTime"] == utc("2026-11-24T16:00:00.0000000Z")
    assert after["endDateTime"] == utc("2026-11-24T16:30:00.0000000Z")  # length kept
    assert after["staffMemberIds"] == [clinic["ann"]]
    assert (after["serviceNotes"], after["additionalInformation"]) == ("keep me", "added")
    assert after["price"] == 0.0  # null takes the property back to its default
    assert after["createdDateTime"] == created["createdDateTime"]


def test_patch_changes_staff_and_customers(client, auth, clinic):
    created = create(client, auth, clinic, customers=[{"name": "Jo", "notes": "first"}])
    url = f"{clinic['url']}/{created['id']}"

    restaffed = client.patch(
        url,
        json={"staffMemberIds": [clinic["bob"]], "customers": [{"name": "Sam"}]},
        headers=auth,
    )
    flat = client.patch(
        f"/beta/solutions/bookingBusinesses/{clinic['business']}/appointments/{created['id']}",
        json={"customerPhone": "213-555-0100"},
        headers=auth,
    )

    assert (restaffed.status_code, flat.status_code) == (204, 204)
    after = client.get(url, headers=auth).json()
    assert after["staffMemberIds"] == [clinic["bob"]]
    assert [(c["name"], c["phone"]) for c in after["customers"]] == [("Sam", "213-555-0100")]


def test_patch_into_a_conflict_is_409_and_changes_nothing(client, auth, clinic):
    create(client, auth, clinic, start="2026-11-24T16:00:00Z")
    created = create(client, auth, clinic, start=TUESDAY_10)
    url = f"{clinic['url']}/{created['id']}"

    response = client.patch(
        url,
        json={"startDateTime": utc("2026-11-24T16:15:00Z"), "serviceNotes": "lost"},
        headers=auth,
    )

    assert response.status_code == 409
    assert client.get(url, headers=auth).json() == created


def test_cancel_frees_the_slot_and_takes_the_appointment_away(client, auth, clinic):
    created = create(client, auth, clinic)
    url = f"{clinic['url']}/{created['id']}"
    window = ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
    assert [item["id"] for item in view(client, auth, clinic, *window).json()["value"]] == [
        created["id"]
    ]

    cancelled = client.post(
        f"{url}/cancel", json={"cancellationMessage": "Feeling better"}, headers=auth
    )

    assert cancelled.status_code == 204
    assert cancelled.content == b""
    assert view(client, auth, clinic, *window).json()["value"] == []
    assert client.get(clinic["url"], headers=auth).json()["value"] == []
    # Graph takes a cancelled appointment off the calendar: reading or changing it is a
    # 404 (the row stays for history); cancelling it again says why, with 409.
    gone = client.get(url, headers=auth)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "itemNotFound"
    assert "cancelled" in gone.json()["error"]["message"]
    assert client.patch(url, json={"serviceNotes": "x"}, headers=auth).status_code == 404
    rebooked = client.post(clinic["url"], json=body(clinic), headers=auth)
    assert rebooked.status_code == 201, rebooked.text
    twice = client.post(f"{url}/cancel", json={"cancellationMessage": "again"}, headers=auth)
    assert twice.status_code == 409


def test_cancel_without_a_body_and_of_an_unknown_appointment(client, auth, clinic):
    created = create(client, auth, clinic)

    plain = client.post(f"{clinic['url']}/{created['id']}/cancel", headers=auth)
    unknown = client.post(f"{clinic['url']}/nope/cancel", json={}, headers=auth)

    assert plain.status_code == 204
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "itemNotFound"


def test_delete_removes_the_appointment(client, auth, clinic):
    created = create(client, auth, clinic)
    url = f"{clinic['url']}/{created['id']}"

    deleted = client.delete(url, headers=auth)

    assert deleted.status_code == 204
    assert client.get(url, headers=auth).status_code == 404
    assert client.delete(url, headers=auth).status_code == 404
    assert client.post(clinic["url"], json=body(clinic), headers=auth).status_code == 201


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_appointments_and_businesses_are_404(client, auth, clinic, method):
    missing = client.request(method, f"{clinic['url']}/nope", json={}, headers=auth)
    nul = client.request(method, f"{clinic['url']}/a%00b", json={}, headers=auth)
    elsewhere = client.request(
        method, f"{BUSINESSES}/nobody@openvisit.test/appointments/x", json={}, headers=auth
    )

    assert (missing.status_code, nul.status_code, elsewhere.status_code) == (404, 404, 404)


# --- list and calendarView ----------------------------------------------------------------


def test_list_supports_filter_orderby_count_and_paging(client, auth, clinic):
    late = create(client, auth, clinic, start="2026-11-25T15:00:00Z")
    early = create(client, auth, clinic, start=TUESDAY_10)
    with_bob = create(client, auth, clinic, start=TUESDAY_10, staff=("bob",))
    url = clinic["url"]

    ordered = client.get(url, headers=auth).json()
    newest = client.get(f"{url}?$orderby=startDateTime desc,id", headers=auth).json()
    after = client.get(
        f"{url}?$filter=startDateTime gt 2026-11-24T15:00:00Z&$count=true", headers=auth
    ).json()
    by_name = client.get(f"{url}?$filter=serviceName eq 'Visit'&$top=1", headers=auth).json()
    count = client.get(f"{url}/$count?$filter=id eq '{late['id']}'", headers=auth)
    refused = client.get(f"{url}?$filter=price gt 1", headers=auth)

    tuesday = sorted([early["id"], with_bob["id"]])
    assert [item["id"] for item in ordered["value"]] == [*tuesday, late["id"]]
    assert ordered["@odata.context"].endswith(f"('{clinic['business']}')/appointments")
    assert newest["value"][0]["id"] == late["id"]
    assert (after["@odata.count"], after["value"][0]["id"]) == (1, late["id"])
    assert len(by_name["value"]) == 1
    assert count.text == "1"
    assert refused.status_code == 400
    assert "serviceId" in refused.json()["error"]["message"]


def test_calendar_view_lists_booked_appointments_overlapping_the_window(client, auth, clinic):
    tuesday = create(client, auth, clinic)  # 15:00-15:30Z
    wednesday = create(client, auth, clinic, start="2026-11-25T15:00:00Z")
    bob = create(client, auth, clinic, start="2026-11-24T16:00:00Z", staff=("bob",))

    def ids(start: str, end: str) -> list[str]:
        response = view(client, auth, clinic, start, end)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["value"]]

    assert ids("2026-11-24T00:00:00Z", "2026-11-26T00:00:00Z") == [
        tuesday["id"],
        bob["id"],
        wednesday["id"],
    ]
    assert ids("2026-11-24T15:29:00Z", "2026-11-24T15:31:00Z") == [tuesday["id"]]
    assert ids("2026-11-24T15:30:00Z", "2026-11-24T16:00:00Z") == []  # touching ends
    # The same window as New York time, '+' and '-' offsets ('+' encoded as %2B).
    assert ids("2026-11-24T10:00:00-05:00", "2026-11-24T20:01:00%2B05:00") == [tuesday["id"]]
    assert ids("2026-11-24T10:00:00 00:00", "2026-11-24T15:01:00Z") == [tuesday["id"]]


def test_calendar_view_shape_and_beta_fields(client, auth, clinic):
    create(client, auth, clinic, customers=[{"name": "Jo", "emailAddress": "jo@example.test"}])
    query = "?start=2026-11-24T00:00:00Z&end=2026-11-25T00:00:00Z"

    v1 = client.get(clinic["view"] + query, headers=auth).json()
    beta = client.get(
        f"/beta/solutions/bookingBusinesses/{clinic['business']}/calendarView{query}",
        headers=auth,
    ).json()

    assert v1["@odata.context"].endswith(f"('{clinic['business']}')/calendarView")
    assert v1["value"][0]["customerName"] == beta["value"][0]["customerName"] == "Jo"
    assert "start" not in v1["value"][0] and "startDateTime" not in beta["value"][0]
    assert beta["value"][0]["customerEmailAddress"] == "jo@example.test"
    assert beta["value"][0]["start"] == utc(TUESDAY_10)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("?end=2026-11-25T00:00:00Z", "'start'"),
        ("?start=2026-11-24T00:00:00Z", "'end'"),
        ("?start=2026-11-24T00:00:00&end=2026-11-25T00:00:00Z", "'start'"),
        ("?start=yesterday&end=2026-11-25T00:00:00Z", "'start'"),
        ("?start=2026-11-25T00:00:00Z&end=2026-11-24T00:00:00Z", "after start"),
        ("?start=2026-11-24T00:00:00Z&end=2026-11-24T00:00:00Z", "after start"),
        ("?start=2026-01-01T00:00:00Z&end=2027-01-03T00:00:00Z", "366 days"),
        ("?start=0001-01-01T00:00:00%2B01:00&end=2026-11-24T00:00:00Z", "'start'"),
    ],
)
def test_calendar_view_needs_an_ordered_bounded_window(client, auth, clinic, query, says):
    response = client.get(clinic["view"] + query, headers=auth)

    assert response.status_code == 400, response.text
    assert says in response.json()["error"]["message"]


def test_calendar_view_pages_with_a_next_link(client, auth, app, runtime, clinic):
    for hour in (15, 16, 17):
        create(client, auth, clinic, start=f"2026-11-24T{hour}:00:00Z")
    app.state.runtime = replace(runtime, page_size=2)

    first = view(client, auth, clinic, "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z").json()
    second = client.get(first["@odata.nextLink"], headers=auth).json()

    assert len(first["value"]) == 2
    assert "start=" in first["@odata.nextLink"]
    assert len(second["value"]) == 1
    assert "@odata.nextLink" not in second


# --- the official SDK ---------------------------------------------------------------------


@pytest.mark.live
def test_msgraph_sdk_books_reads_moves_and_cancels(app, runtime, make_token, clinic):
    written = BookingAppointment(
        service_id=clinic["visit"],
        start_date_time=DateTimeTimeZone(
            date_time="2026-11-24T10:00:00.0000000", time_zone="Eastern Standard Time"
        ),
        end_date_time=DateTimeTimeZone(
            date_time="2026-11-24T15:45:00.0000000+00:00", time_zone="UTC"
        ),
        staff_member_ids=[clinic["bob"]],
        customer_time_zone="America/Chicago",
        pre_buffer=timedelta(minutes=5),
        post_buffer=timedelta(minutes=15),
        customers=[
            BookingCustomerInformation(
                name="Jordan Miller",
                email_address="jordanm@example.test",
                phone="213-555-0199",
                notes="Knee",
                time_zone="America/Chicago",
                location=Location(display_name="Home"),
                custom_question_answers=[
                    BookingQuestionAnswer(question_id="q1", question="Age?", answer="25")
                ],
            )
        ],
        service_notes="Bring the X-rays.",
        additional_information="Park at the back.",
        is_location_online=True,
        opt_out_of_customer_email=True,
        sms_notifications_enabled=True,
        price=40.0,
        price_type=BookingPriceType.FixedPrice,
        reminders=[
            BookingReminder(
                offset=timedelta(days=1),
                recipients=BookingReminderRecipients.Customer,
                message="Tomorrow!",
            )
        ],
        service_location=Location(display_name="Room 4"),
        appointment_label="follow-up",
        is_customer_allowed_to_manage_booking=False,
        anonymous_join_web_url="https://meet.example.test/anon",
    )

    async def scenario(client):
        business = client.solutions.booking_businesses.by_booking_business_id(clinic["business"])
        created = await business.appointments.post(written)
        item = business.appointments.by_booking_appointment_id(created.id)
        read = await item.get()
        window = RequestConfiguration(
            query_parameters=CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
                start="2026-11-24T00:00:00-05:00", end="2026-11-25T00:00:00-05:00"
            )
        )
        listed = await business.calendar_view.get(window)
        await item.patch(
            BookingAppointment(
                start_date_time=DateTimeTimeZone(date_time="2026-11-24T17:00:00Z", time_zone="UTC")
            )
        )
        moved = await item.get()
        await item.cancel.post(CancelPostRequestBody(cancellation_message="Feeling better"))
        after = await business.calendar_view.get(window)
        return read, listed, moved, after

    read, listed, moved, after = run_with_live_client(app, make_token(), scenario)

    # The links are the online meeting's (read-only): what was written is not kept.
    computed = {"start_date_time", "end_date_time", "anonymous_join_web_url"}
    assert_round_trip(
        BookingAppointment(**{**graph_properties(written), **dict.fromkeys(computed)}), read
    )
    assert read.anonymous_join_web_url.startswith("http://127.0.0.1:")
    assert "/join/" in read.anonymous_join_web_url
    assert moved.anonymous_join_web_url != read.anonymous_join_web_url  # expires later
    assert isinstance(read.customers[0], BookingCustomerInformation)
    assert (read.start_date_time.date_time, read.start_date_time.time_zone) == (
        "2026-11-24T15:00:00.0000000Z",
        "UTC",
    )
    assert read.end_date_time.date_time == "2026-11-24T15:45:00.0000000Z"
    assert (read.duration, read.service_name, read.filled_attendees_count) == (
        timedelta(minutes=45),
        "Visit",
        1,
    )
    assert [appointment.id for appointment in listed.value] == [read.id]
    assert moved.start_date_time.date_time == "2026-11-24T17:00:00.0000000Z"
    assert moved.end_date_time.date_time == "2026-11-24T17:45:00.0000000Z"
    assert after.value == []


def test_customers_carry_sms_notifications_enabled_under_beta_only(client, auth, clinic):
    """bookingCustomerInformation.smsNotificationsEnabled is in the beta CSDL only; a
    customer who was given none reads the appointment's own."""
    sent = body(
        clinic,
        smsNotificationsEnabled=True,
        customers=[{"name": "Jo", "smsNotificationsEnabled": False}, {"name": "Sam"}],
    )
    sent["serviceId"] = clinic["group"]  # seats up to three customers

    created = client.post(clinic["url"], json=sent, headers=auth)

    assert created.status_code == 201, created.text
    path = f"{clinic['business']}/appointments/{created.json()['id']}"
    v1 = client.get(f"{BUSINESSES}/{path}", headers=auth).json()
    beta = client.get(f"/beta/solutions/bookingBusinesses/{path}", headers=auth).json()
    assert [c["smsNotificationsEnabled"] for c in beta["customers"]] == [False, True]
    assert not any("smsNotificationsEnabled" in c for c in v1["customers"])
    assert v1["smsNotificationsEnabled"] is beta["smsNotificationsEnabled"] is True
