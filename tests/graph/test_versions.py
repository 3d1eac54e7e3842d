"""Each version root answers in its own CSDL's shape, over plain HTTP.

v1.0 and beta differ in a few Bookings types (msgraph-metadata's clean_v10_metadata and
clean_beta_metadata): bookingWorkTimeSlot is startTime/endTime in v1.0 and start/end in
beta. A record written under one root reads back under the other in that root's shape.
"""

from __future__ import annotations

import pytest

from tests.factories import make_business

V1 = "/v1.0/solutions/bookingBusinesses"
BETA = "/beta/solutions/bookingBusinesses"
V1_SLOT = {"startTime": "08:00:00.0000000", "endTime": "12:30:00.0000000"}
BETA_SLOT = {"start": "08:00:00.0000000", "end": "12:30:00.0000000"}


def staff_body(slot: dict[str, str]) -> dict[str, object]:
    return {
        "displayName": "Dr. Osei",
        "emailAddress": "osei@example.test",
        "role": "administrator",
        "useBusinessHours": False,
        "workingHours": [
            {"day": "monday", "timeSlots": [slot]},
            {"day": "sunday", "timeSlots": []},
        ],
    }


@pytest.mark.parametrize(("root", "slot"), [(V1, V1_SLOT), (BETA, BETA_SLOT)])
def test_staff_working_hours_read_back_in_each_versions_shape(client, auth, runtime, root, slot):
    business = make_business(runtime)

    created = client.post(f"{root}/{business}/staffMembers", json=staff_body(slot), headers=auth)

    assert created.status_code == 201, created.text
    assert created.json()["workingHours"][0]["timeSlots"] == [slot]
    member = created.json()["id"]
    v1 = client.get(f"{V1}/{business}/staffMembers/{member}", headers=auth).json()
    beta = client.get(f"{BETA}/{business}/staffMembers/{member}", headers=auth).json()
    assert v1["workingHours"] == [
        {"day": "monday", "timeSlots": [V1_SLOT]},
        {"day": "sunday", "timeSlots": []},
    ]
    assert beta["workingHours"] == [
        {"day": "monday", "timeSlots": [BETA_SLOT]},
        {"day": "sunday", "timeSlots": []},
    ]


def test_business_hours_and_policy_hours_take_the_beta_shape_under_beta(client, auth, runtime):
    business = make_business(runtime)
    hours = [{"day": "tuesday", "timeSlots": [BETA_SLOT]}]
    change = {
        "businessHours": hours,
        "schedulingPolicy": {
            "timeSlotInterval": "PT30M",
            "generalAvailability": {
                "availabilityType": "customWeeklyHours",
                "businessHours": hours,
            },
        },
    }

    patched = client.patch(f"{BETA}/{business}", json=change, headers=auth)

    assert patched.status_code == 204, patched.text
    beta = client.get(f"{BETA}/{business}", headers=auth).json()
    v1 = client.get(f"{V1}/{business}", headers=auth).json()
    assert beta["businessHours"] == hours
    assert beta["schedulingPolicy"]["generalAvailability"]["businessHours"] == hours
    v1_hours = [{"day": "tuesday", "timeSlots": [V1_SLOT]}]
    assert v1["businessHours"] == v1_hours
    assert v1["schedulingPolicy"]["generalAvailability"]["businessHours"] == v1_hours


def test_a_slot_ending_before_it_starts_is_refused_in_either_shape(client, auth, runtime):
    business = make_business(runtime)
    backwards = {"start": "12:00", "end": "08:00"}

    refused = client.patch(
        f"{BETA}/{business}",
        json={"businessHours": [{"day": "monday", "timeSlots": [backwards]}]},
        headers=auth,
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "badRequest"
    assert "end later than it starts" in refused.json()["error"]["message"]


def test_color_index_is_a_beta_property_of_staff(client, auth, runtime):
    business = make_business(runtime)
    body = {**staff_body(V1_SLOT), "colorIndex": 3}

    created = client.post(f"{BETA}/{business}/staffMembers", json=body, headers=auth)

    assert created.status_code == 201, created.text
    assert created.json()["colorIndex"] == 3
    member = f"{business}/staffMembers/{created.json()['id']}"
    assert "colorIndex" not in client.get(f"{V1}/{member}", headers=auth).json()
    assert client.patch(f"{BETA}/{member}", json={"colorIndex": 5}, headers=auth).status_code == 204
    assert client.get(f"{BETA}/{member}", headers=auth).json()["colorIndex"] == 5
    for bad in (None, -1, "5", 1.5):
        refused = client.patch(f"{BETA}/{member}", json={"colorIndex": bad}, headers=auth)
        assert refused.status_code == 400, bad
        assert "colorIndex" in refused.json()["error"]["message"]
    assert client.get(f"{BETA}/{member}", headers=auth).json()["colorIndex"] == 5


COORDINATES = dict.fromkeys(("accuracy", "altitude", "altitudeAccuracy", "latitude", "longitude"))
V1_ADDRESS = {"street": "1 Main St", "city": None, "state": None, "countryOrRegion": None}
V1_ADDRESS["postalCode"] = None


def test_locations_come_back_whole_in_each_versions_shape(client, auth, runtime):
    """Graph's examples answer a location's address and coordinates as objects of nulls,
    with physicalAddress's beta members (postOfficeBox, type) only under /beta."""
    business = make_business(runtime)
    sent = {
        "displayName": "Visit",
        "defaultLocation": {"displayName": "Room 2", "coordinates": None},
    }

    created = client.post(f"{V1}/{business}/services", json=sent, headers=auth)

    assert created.status_code == 201, created.text
    service = f"{business}/services/{created.json()['id']}"
    v1 = client.get(f"{V1}/{service}", headers=auth).json()["defaultLocation"]
    beta = client.get(f"{BETA}/{service}", headers=auth).json()["defaultLocation"]
    empty_v1_address = dict.fromkeys(V1_ADDRESS)
    assert v1["address"] == empty_v1_address
    assert beta["address"] == {**empty_v1_address, "type": None, "postOfficeBox": None}
    assert v1["coordinates"] == beta["coordinates"] == COORDINATES
    assert v1["displayName"] == beta["displayName"] == "Room 2"


def test_phones_and_addresses_of_a_customer_take_each_versions_members(client, auth, runtime):
    business = make_business(runtime)
    sent = {
        "displayName": "Jordan Lee",
        "phones": [{"number": "+1 206 555 0147", "type": "mobile", "language": "en"}],
        "addresses": [{"street": "1 Main St", "type": "home", "postOfficeBox": "PO 7"}],
    }

    created = client.post(f"{BETA}/{business}/customers", json=sent, headers=auth)

    assert created.status_code == 201, created.text
    customer = f"{business}/customers/{created.json()['id']}"
    v1 = client.get(f"{V1}/{customer}", headers=auth).json()
    beta = client.get(f"{BETA}/{customer}", headers=auth).json()
    phone = {"number": "+1 206 555 0147", "type": "mobile"}
    assert beta["phones"] == [phone]  # beta phone has no language or region
    assert v1["phones"] == [{**phone, "language": "en", "region": None}]
    assert v1["addresses"] == [V1_ADDRESS]  # v1.0 physicalAddress has no type or box
    assert beta["addresses"] == [{**V1_ADDRESS, "type": "home", "postOfficeBox": "PO 7"}]
