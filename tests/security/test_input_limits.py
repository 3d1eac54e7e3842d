"""Input at the edges of what the API takes: seats, deep filters, far dates, NULs, nulls,
and bodies from callers who have not authenticated (issue 7, item 15)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response  # the client starlette.testclient is built on

from openvisit.runtime import Runtime
from tests.bookings.clinic import Clinic, make_clinic
from tests.factories import BUSINESSES, make_customer, make_service

TUESDAY_10 = "2026-11-24T15:00:00.0000000Z"


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    place = make_clinic(runtime)
    place["five"] = make_service(
        runtime,
        place["business"],
        "Class of five",
        default_duration_seconds=3600,
        maximum_attendees_count=5,
        staff_member_ids=[place["ann"]],
    )
    return place


def _error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _customers(count: int) -> list[dict[str, str]]:
    return [{"name": f"Guest {n}", "emailAddress": f"guest{n}@example.test"} for n in range(count)]


def _book(
    client: TestClient, auth: dict[str, str], clinic: Clinic, customers: int, service: str = "five"
) -> Response:
    body = {
        "serviceId": clinic[service],
        "startDateTime": {"dateTime": TUESDAY_10, "timeZone": "UTC"},
        "staffMemberIds": [clinic["ann"]],
        "customers": _customers(customers),
    }
    return client.post(f"{BUSINESSES}/{clinic['business']}/appointments", json=body, headers=auth)


def test_more_customers_than_a_group_has_seats_is_refused(client, auth, clinic):
    error = _error(_book(client, auth, clinic, 6), 400)
    assert "5" in error["message"]
    listed = client.get(f"{BUSINESSES}/{clinic['business']}/appointments", headers=auth).json()
    assert listed["value"] == []


def test_more_customers_than_free_seats_is_refused(client, auth, clinic):
    assert _book(client, auth, clinic, 3).status_code == 201
    error = _error(_book(client, auth, clinic, 3), 409)
    assert "seat" in error["message"]
    assert _book(client, auth, clinic, 2).status_code == 201  # exactly the two left


def test_an_update_cannot_add_customers_past_the_free_seats(client, auth, clinic):
    first = _book(client, auth, clinic, 4).json()
    assert _book(client, auth, clinic, 1).status_code == 201
    url = f"{BUSINESSES}/{clinic['business']}/appointments/{first['id']}"
    _error(client.patch(url, json={"customers": _customers(5)}, headers=auth), 409)
    assert len(client.get(url, headers=auth).json()["customers"]) == 4


# --- $filter -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 200 + "displayName eq 'x'" + ")" * 200,
        "not " * 300 + "displayName eq 'x'",
        "(not " * 100 + "displayName eq 'x'" + ")" * 100,
    ],
    ids=["parentheses", "not", "both"],
)
def test_deeply_nested_filters_are_refused(client, auth, expression, caplog):
    response = client.get(BUSINESSES, params={"$filter": expression}, headers=auth)

    assert "deeper than" in _error(response, 400)["message"]
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def test_filters_nested_a_few_levels_still_work(client, auth):
    expression = "(" * 10 + "not (displayName eq 'x')" + ")" * 10
    response = client.get(BUSINESSES, params={"$filter": expression}, headers=auth)
    assert response.status_code == 200, response.text


# --- dates and time zones --------------------------------------------------------------

FAR_DATES = [
    ("0001-01-01", "0001-01-02"),
    ("9999-12-30", "9999-12-31"),
    ("1600-12-31", "1601-01-01"),
]


@pytest.mark.parametrize(("start", "end"), FAR_DATES, ids=["year 1", "year 9999", "1600"])
def test_slot_windows_outside_the_supported_years_are_refused(client, auth, clinic, start, end):
    url = f"{BUSINESSES}/{clinic['business']}/services/{clinic['visit']}/availableSlots"
    response = client.get(url, params={"start": start, "end": end}, headers=auth)
    assert "between the years" in _error(response, 400)["message"]


@pytest.mark.parametrize(("start", "end"), FAR_DATES, ids=["year 1", "year 9999", "1600"])
def test_other_windows_outside_the_supported_years_are_refused(client, auth, clinic, start, end):
    base = f"{BUSINESSES}/{clinic['business']}"
    view = client.get(
        f"{base}/calendarView",
        params={"start": f"{start}T00:00:00Z", "end": f"{end}T00:00:00Z"},
        headers=auth,
    )
    _error(view, 400)
    body = {
        "staffIds": [clinic["ann"]],
        "startDateTime": {"dateTime": f"{start}T00:00:00", "timeZone": "UTC"},
        "endDateTime": {"dateTime": f"{end}T00:00:00", "timeZone": "UTC"},
    }
    _error(client.post(f"{base}/getStaffAvailability", json=body, headers=auth), 400)


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "/etc/localtime"])
def test_zones_that_name_no_place_are_refused(client, auth, clinic, zone):
    base = f"{BUSINESSES}/{clinic['business']}"
    body = {
        "serviceId": clinic["visit"],
        "startDateTime": {"dateTime": "2026-11-24T10:00:00", "timeZone": zone},
        "staffMemberIds": [clinic["ann"]],
    }
    error = _error(client.post(f"{base}/appointments", json=body, headers=auth), 400)
    assert zone in error["message"]
    slots = client.get(
        f"{base}/services/{clinic['visit']}/availableSlots",
        params={"start": "2026-11-24", "end": "2026-11-24", "timeZone": zone},
        headers=auth,
    )
    _error(slots, 400)
    assert client.get(f"{base}/appointments", headers=auth).json()["value"] == []


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-11-24T00:00:00Z%00&end=2026-11-25T00:00:00Z",
        "start=2026-13-01T00:00:00Z&end=2026-11-25T00:00:00Z",
        "start=2026-02-30T00:00:00Z&end=2026-11-25T00:00:00Z",
    ],
    ids=["NUL", "month 13", "February 30"],
)
def test_impossible_or_nul_query_values_are_refused(client, auth, clinic, query):
    _error(client.get(f"{BUSINESSES}/{clinic['business']}/calendarView?{query}", headers=auth), 400)


# --- PATCH may not clear what create requires --------------------------------------------

REQUIRED_ON_CREATE = [
    ("", "displayName"),
    ("services/{visit}", "displayName"),
    ("staffMembers/{ann}", "displayName"),
    ("staffMembers/{ann}", "emailAddress"),
    ("staffMembers/{ann}", "role"),
    ("customers/{customer}", "displayName"),
]


@pytest.mark.parametrize(("path", "name"), REQUIRED_ON_CREATE)
def test_patch_cannot_null_a_property_create_requires(client, auth, runtime, clinic, path, name):
    ids = {**clinic, "customer": make_customer(runtime, clinic["business"])}
    url = f"{BUSINESSES}/{clinic['business']}" + (f"/{path.format(**ids)}" if path else "")
    before = client.get(url, headers=auth).json()

    error = _error(client.patch(url, json={name: None}, headers=auth), 400)

    assert name in error["message"]
    assert client.get(url, headers=auth).json()[name] == before[name]


# --- 401 before the body ---------------------------------------------------------------

NO_CREDENTIALS = [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}]
BAD_BODIES = [b"{not json", b"[" * 100_000, b"x" * 2_000_000]


@pytest.mark.parametrize("headers", NO_CREDENTIALS, ids=["none", "unknown token", "basic"])
@pytest.mark.parametrize("content", BAD_BODIES, ids=["malformed", "deep", "huge"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unauthenticated_writes_get_401_before_the_body_is_read(client, headers, content, method):
    url = BUSINESSES if method == "POST" else f"{BUSINESSES}/contoso@openvisit.test"
    response = client.request(
        method, url, content=content, headers={**headers, "Content-Type": "application/json"}
    )

    assert _error(response, 401)["code"] == "InvalidAuthenticationToken"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_public_pages_and_probes_need_no_token(client):
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path
    assert client.post("/sign-in", data={"email": "a@b.test", "password": "x"}).status_code != 401
