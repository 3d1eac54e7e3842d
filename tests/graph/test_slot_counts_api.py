"""The openvisit.slotCounts extension over HTTP (both backends)."""

from __future__ import annotations

import pytest

from tests.bookings.clinic import WEEKDAY_HOURS, book_at, make_clinic
from tests.factories import BUSINESSES, make_business, make_service, make_staff


@pytest.fixture
def clinic(runtime):
    return make_clinic(runtime)


def _counts(
    client, headers, clinic, query: str, service: str = "visit", name="openvisit.slotCounts"
):
    return client.get(
        f"{BUSINESSES}/{clinic['business']}/services/{clinic[service]}/{name}?{query}",
        headers=headers,
    )


def test_each_start_once_in_the_callers_zone_with_counts(client, auth, runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))  # Tuesday 10:00 New York

    response = _counts(client, auth, clinic, "start=2026-11-24&end=2026-11-24")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#Collection(openvisit.slotCount)")
    assert (body["serviceId"], body["timeZone"]) == (clinic["visit"], "America/New_York")
    assert (body["duration"], body["maximumAttendeesCount"]) == ("PT30M", 1)
    assert body["value"][0] == {"start": "2026-11-24T09:00:00-05:00", "freeStaff": 2}
    by_start = {item["start"][11:16]: item["freeStaff"] for item in body["value"]}
    assert by_start["10:00"] == 1
    assert by_start["12:00"] == 2
    assert len(by_start) == 16


def test_staff_ids_come_only_when_asked(client, auth, runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))

    body = _counts(
        client, auth, clinic, "start=2026-11-24&end=2026-11-24&includeStaffIds=true"
    ).json()

    at_ten = next(item for item in body["value"] if item["start"].startswith("2026-11-24T10:00"))
    assert at_ten == {
        "start": "2026-11-24T10:00:00-05:00",
        "freeStaff": 1,
        "staffIds": [clinic["bob"]],
    }


def test_a_group_adds_seats_and_the_largest_party(client, auth, runtime, clinic):
    book_at(runtime, clinic, service="group", customers=({"name": "a"},))

    body = _counts(client, auth, clinic, "start=2026-11-24&end=2026-11-24", service="group").json()

    by_start = {item["start"][11:16]: item for item in body["value"]}
    assert body["maximumAttendeesCount"] == 3
    assert by_start["10:00"] == {
        "start": "2026-11-24T10:00:00-05:00",
        "freeStaff": 1,
        "freeSeats": 2,
        "largestParty": 2,
    }
    assert by_start["12:00"]["freeSeats"] == 3


def test_a_half_hour_zone_and_the_callers_own_zone(client, auth, runtime):
    business = make_business(
        runtime,
        business_hours=WEEKDAY_HOURS,
        booking_page_settings={"businessTimeZone": "Asia/Kolkata"},
    )
    make_staff(runtime, business, "Dr. Rao")
    service = make_service(runtime, business, "Visit")
    url = f"{BUSINESSES}/{business}/services/{service}/openvisit.slotCounts"

    own = client.get(f"{url}?start=2026-11-24&end=2026-11-24", headers=auth).json()
    paris = client.get(
        f"{url}?start=2026-11-24T03:00:00Z&end=2026-11-24T12:00:00Z&timeZone=Europe/Paris",
        headers=auth,
    ).json()

    assert own["value"][0]["start"] == "2026-11-24T09:00:00+05:30"
    assert own["value"][-1]["start"] == "2026-11-24T16:30:00+05:30"
    assert paris["timeZone"] == "Europe/Paris"
    assert paris["value"][0]["start"] == "2026-11-24T04:30:00+01:00"  # the same 03:30Z


def test_called_like_a_graph_function_in_any_case(client, auth, clinic):
    plain = _counts(client, auth, clinic, "start=2026-11-24&end=2026-11-24").json()

    for name in ("openvisit.slotCounts()", "OpenVisit.SlotCounts"):
        response = _counts(client, auth, clinic, "start=2026-11-24&end=2026-11-24", name=name)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["value"] == plain["value"]


def test_token_and_scope_are_checked(client, make_token, clinic):
    query = "start=2026-11-24&end=2026-11-24"

    anonymous = _counts(client, {}, clinic, query)
    without_scope = _counts(
        client, {"Authorization": f"Bearer {make_token('User.Read')}"}, clinic, query
    )
    reader = _counts(
        client, {"Authorization": f"Bearer {make_token('Bookings.Read.All')}"}, clinic, query
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert without_scope.status_code == 403
    assert without_scope.json()["error"]["code"] == "accessDenied"
    assert reader.status_code == 200


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("end=2026-11-24", "'start' is required"),
        ("start=2026-11-24&end=2026-11-23", "after start"),
        ("start=2026-11-24&end=2027-06-01", "at most 62 days"),
        (
            "start=2026-11-24&end=2026-12-24&includeStaffIds=true",
            "includeStaffIds spans at most 7 days",
        ),
        ("start=2026-11-24&end=2026-11-24&includeStaffIds=maybe", "includeStaffIds"),
        ("start=2026-11-24T09:00:00&end=2026-11-24", "'start'"),  # no offset: ambiguous
        ("start=tomorrow&end=2026-11-24", "'start'"),
        ("start=2026-11-24&end=2026-11-24&timeZone=Mars/Olympus", "'timeZone'"),
        ("start=2026-11-24&end=2026-11-24&staffMemberId=nobody", "nobody"),
    ],
)
def test_bad_queries_are_refused_in_the_graph_envelope(client, auth, clinic, query, fragment):
    response = _counts(client, auth, clinic, query)

    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert fragment in error["message"]
    assert error["code"]


def test_unknown_service_is_404(client, auth, clinic):
    response = client.get(
        f"{BUSINESSES}/{clinic['business']}/services/nope/openvisit.slotCounts"
        "?start=2026-11-24&end=2026-11-24",
        headers=auth,
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "itemNotFound"


def test_openapi_documents_the_extension_and_its_scope(client):
    spec = client.get("/openapi.json").json()
    path = (
        "/v1.0/solutions/bookingBusinesses/{business_id}/services/{service_id}/openvisit.slotCounts"
    )

    operation = spec["paths"][path]["get"]

    assert operation["operationId"] == "bookingService_openvisit.slotCounts"
    assert operation["security"] == [{"HTTPBearer": ["Bookings.Read.All"]}]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"start", "end", "timeZone", "staffMemberId", "includeStaffIds"} <= names
