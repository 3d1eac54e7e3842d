"""getStaffAvailability and the availableSlots extension over HTTP (both backends)."""

from __future__ import annotations

import pytest

from tests.bookings.clinic import book_at, make_clinic
from tests.factories import BUSINESSES


@pytest.fixture
def clinic(runtime):
    return make_clinic(runtime)


def _slots(client, auth, clinic, query: str, service: str = "visit"):
    return client.get(
        f"{BUSINESSES}/{clinic['business']}/services/{clinic[service]}/availableSlots?{query}",
        headers=auth,
    )


def test_slots_come_in_the_callers_time_zone_with_staff_and_seats(client, auth, runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))  # Tuesday 10:00 New York

    response = _slots(client, auth, clinic, "start=2026-11-24&end=2026-11-24")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timeZone"] == "America/New_York"  # the business's zone by default
    first = body["value"][0]
    assert first["startDateTime"] == {
        "dateTime": "2026-11-24T09:00:00.0000000",
        "timeZone": "America/New_York",
    }
    assert first["start"] == "2026-11-24T14:00:00.0000000Z"
    assert {m["displayName"] for m in first["staffMembers"]} == {"Dr. Ann", "Dr. Bob"}
    at_ten = next(
        s for s in body["value"] if s["startDateTime"]["dateTime"].endswith("10:00:00.0000000")
    )
    assert [m["displayName"] for m in at_ten["staffMembers"]] == ["Dr. Bob"]


def test_the_same_instants_whatever_zone_the_caller_uses(client, auth, clinic):
    in_new_york = _slots(
        client, auth, clinic, "start=2026-11-24T05:00:00Z&end=2026-11-26T05:00:00Z"
    ).json()
    in_kolkata = _slots(
        client,
        auth,
        clinic,
        "start=2026-11-24T05:00:00Z&end=2026-11-26T05:00:00Z&timeZone=India Standard Time",
    ).json()

    assert [s["start"] for s in in_new_york["value"]] == [s["start"] for s in in_kolkata["value"]]
    assert in_kolkata["value"][0]["startDateTime"] == {
        "dateTime": "2026-11-24T19:30:00.0000000",
        "timeZone": "India Standard Time",
    }


def test_group_slots_show_free_seats_and_one_staff_filter(client, auth, runtime, clinic):
    book_at(runtime, clinic, service="group", customers=({"name": "a"},))

    body = _slots(
        client,
        auth,
        clinic,
        f"start=2026-11-24&end=2026-11-24&staffMemberId={clinic['ann']}",
        service="group",
    ).json()

    seats = {s["startDateTime"]["dateTime"][11:16]: s["freeSeats"] for s in body["value"]}
    assert seats["10:00"] == 2
    assert seats["12:00"] == 3


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("end=2026-11-24", "'start' is required"),
        ("start=2026-11-24&end=2026-11-23", "after start"),
        ("start=2026-11-24&end=2027-06-01", "at most"),
        ("start=tomorrow&end=2026-11-24", "'start'"),
        ("start=2026-11-24&end=2026-11-24&timeZone=Mars/Olympus", "'timeZone'"),
    ],
)
def test_bad_slot_queries_are_400(client, auth, clinic, query, fragment):
    response = _slots(client, auth, clinic, query)

    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_staff_availability_follows_graph(client, auth, runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))
    body = {
        "staffIds": [clinic["ann"], clinic["bob"]],
        "startDateTime": {"dateTime": "2026-11-24T08:00:00", "timeZone": "Eastern Standard Time"},
        "endDateTime": {"dateTime": "2026-11-24T18:00:00", "timeZone": "Eastern Standard Time"},
    }

    response = client.post(
        f"{BUSINESSES}/{clinic['business']}/getStaffAvailability", json=body, headers=auth
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["value"] == result["staffAvailabilityItem"]
    ann = result["value"][0]
    assert ann["staffId"] == clinic["ann"]
    assert [(i["status"], i["startDateTime"]["dateTime"]) for i in ann["availabilityItems"]] == [
        ("outOfOffice", "2026-11-24T13:00:00.0000000Z"),
        ("available", "2026-11-24T14:00:00.0000000Z"),
        ("busy", "2026-11-24T14:50:00.0000000Z"),
        ("available", "2026-11-24T15:40:00.0000000Z"),
        ("outOfOffice", "2026-11-24T22:00:00.0000000Z"),
    ]
    assert [i["status"] for i in result["value"][1]["availabilityItems"]] == [
        "outOfOffice",
        "available",
        "outOfOffice",
    ]


def test_staff_availability_needs_known_staff_and_read_scope(client, auth, make_token, clinic):
    body = {
        "staffIds": ["nobody"],
        "startDateTime": {"dateTime": "2026-11-24T08:00:00Z"},
        "endDateTime": {"dateTime": "2026-11-24T18:00:00Z"},
    }
    url = f"{BUSINESSES}/{clinic['business']}/getStaffAvailability"

    assert client.post(url, json=body, headers=auth).status_code == 404
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json={**body, "staffIds": []}, headers=auth).status_code == 400
