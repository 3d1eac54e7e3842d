"""Bad input gets a 4xx in Graph's error envelope naming the property, and nothing is
stored or half-written; good input in the forms Graph clients really send is accepted.

Every create is checked against the collection count and every PATCH against a GET of
the record before and after, so a request that fails part-way cannot pass unnoticed.
Bodies are sent as raw JSON text (NaN and Infinity included, as Python's json writes
them) so the server sees exactly what a careless client could send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import (
    BUSINESSES,
    make_business,
    make_customer,
    make_question,
    make_service,
    make_staff,
)

JSON = {"Content-Type": "application/json"}
HOURS_BACKWARDS = [{"day": "monday", "timeSlots": [{"startTime": "17:00", "endTime": "09:00"}]}]
DUPLICATE_DAY = [{"day": "monday", "timeSlots": []}, {"day": "monday", "timeSlots": []}]


@dataclass(frozen=True)
class Resource:
    name: str
    valid: dict[str, Any]  # the smallest body a create accepts
    patch_status: int


RESOURCES = {
    resource.name: resource
    for resource in (
        Resource("bookingBusinesses", {"displayName": "Fabrikam Dental"}, 204),
        Resource("services", {"displayName": "Check-up"}, 204),
        Resource(
            "staffMembers",
            {"displayName": "Ada Obi", "emailAddress": "ada@example.test", "role": "viewer"},
            204,
        ),
        Resource("customers", {"displayName": "Sam Doe"}, 200),
        Resource("customQuestions", {"displayName": "Allergies?", "answerInputType": "text"}, 200),
    )
}
ALL = tuple(RESOURCES)


@dataclass(frozen=True)
class Seeded:
    business: str
    items: dict[str, str]  # resource name -> URL of one existing record

    def collection(self, resource: str) -> str:
        if resource == "bookingBusinesses":
            return BUSINESSES
        return f"{BUSINESSES}/{self.business}/{resource}"


@pytest.fixture
def seeded(runtime) -> Seeded:
    business = make_business(runtime)
    base = f"{BUSINESSES}/{business}"
    return Seeded(
        business=business,
        items={
            "bookingBusinesses": base,
            "services": f"{base}/services/{make_service(runtime, business)}",
            "staffMembers": f"{base}/staffMembers/{make_staff(runtime, business)}",
            "customers": f"{base}/customers/{make_customer(runtime, business)}",
            "customQuestions": f"{base}/customQuestions/{make_question(runtime, business)}",
        },
    )


def send(client, auth, method: str, url: str, body: Any):
    text = body if isinstance(body, str) else json.dumps(body)
    return client.request(method, url, content=text, headers={**auth, **JSON})


def count(client, auth, url: str) -> int:
    response = client.get(url, headers=auth)
    assert response.status_code == 200
    return len(response.json()["value"])


def assert_graph_error(response, status: int, code: str, names: str | None) -> None:
    """The Graph envelope, with `names` (a camelCase property or path) in the message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    if names is not None:
        assert names in error["message"], error["message"]
    inner = error["innerError"]
    assert inner["request-id"]
    assert inner["date"].endswith("Z")


def p(resource: str, body: dict[str, Any], names: str, label: str) -> Any:
    return pytest.param(resource, body, names, id=f"{resource}-{label}")


# (resource, properties to send, the property the message must name). Each is refused on
# create (merged into a valid body) and on PATCH (next to a valid displayName change).
BAD_VALUES = [
    # Wrong JSON types: Graph's OData reader does not coerce "true" or "5".
    p("bookingBusinesses", {"displayName": 42}, "displayName", "number-for-string"),
    p("bookingBusinesses", {"email": 5}, "email", "number-for-email"),
    p("bookingBusinesses", {"address": "1 Main St"}, "address", "string-for-object"),
    p("bookingBusinesses", {"businessHours": {"day": "monday"}}, "businessHours", "obj-for-list"),
    p("services", {"isLocationOnline": "true"}, "isLocationOnline", "string-for-bool"),
    p("services", {"isHiddenFromCustomers": 1}, "isHiddenFromCustomers", "number-for-bool"),
    p("services", {"maximumAttendeesCount": "5"}, "maximumAttendeesCount", "string-for-int"),
    p("services", {"maximumAttendeesCount": 2.5}, "maximumAttendeesCount", "fraction-for-int"),
    p("services", {"defaultPrice": "10"}, "defaultPrice", "string-for-number"),
    p("services", {"staffMemberIds": "abc"}, "staffMemberIds", "string-for-list"),
    p("services", {"displayName": 3.5}, "displayName", "number-for-string"),
    p("staffMembers", {"useBusinessHours": "yes"}, "useBusinessHours", "string-for-bool"),
    p("staffMembers", {"role": 1}, "role", "number-for-enum"),
    p("customers", {"emailAddress": 3}, "emailAddress", "number-for-email"),
    p("customers", {"phones": "555-0100"}, "phones", "string-for-list"),
    p("customQuestions", {"answerOptions": "yes"}, "answerOptions", "string-for-list"),
    p("customQuestions", {"displayName": True}, "displayName", "bool-for-string"),
    # Names: empty, too long, null, NUL characters (PostgreSQL cannot store U+0000).
    *(p(name, {"displayName": ""}, "displayName", "empty-name") for name in ALL),
    *(p(name, {"displayName": "x" * 256}, "displayName", "256-char-name") for name in ALL),
    *(p(name, {"displayName": None}, "displayName", "null-name") for name in ALL),
    *(p(name, {"displayName": "a\x00b"}, "displayName", "nul-in-name") for name in ALL),
    p("customers", {"addresses": [{"street": "1\x00 Main"}]}, "addresses.0.street", "nul-nested"),
    p("customQuestions", {"answerOptions": ["a\x00"]}, "answerOptions", "nul-in-list"),
    p("services", {"staffMemberIds": ["\x00"]}, "staffMemberIds", "nul-in-id-list"),
    # Long text.
    p("services", {"notes": "n" * 10_001}, "notes", "long-notes"),
    p("services", {"description": "d" * 10_001}, "description", "long-description"),
    p("bookingBusinesses", {"businessType": "b" * 256}, "businessType", "long-type"),
    # E-mail and phone.
    p("bookingBusinesses", {"email": "not-an-email"}, "email", "bad-email"),
    p("staffMembers", {"emailAddress": "ada@"}, "emailAddress", "bad-email"),
    p("customers", {"emailAddress": "a@b@c.test"}, "emailAddress", "bad-email"),
    p("bookingBusinesses", {"phone": "abc"}, "phone", "phone-abc"),
    p("bookingBusinesses", {"phone": "+1 12"}, "phone", "phone-too-short"),
    p("customers", {"phones": [{"number": "abc"}]}, "phones.0.number", "phone-abc"),
    p("customers", {"phones": [{"number": "+1 12", "type": "home"}]}, "phones.0.number", "short"),
    # Time zones.
    p("staffMembers", {"timeZone": "Mars/Olympus"}, "timeZone", "unknown-zone"),
    p(
        "bookingBusinesses",
        {"bookingPageSettings": {"businessTimeZone": "Mars/Olympus"}},
        "bookingPageSettings.businessTimeZone",
        "unknown-zone",
    ),
    # Durations.
    p("services", {"defaultDuration": "30 minutes"}, "defaultDuration", "prose-duration"),
    p("services", {"preBuffer": "-PT5M"}, "preBuffer", "negative-buffer"),
    p("services", {"postBuffer": "P1000D"}, "postBuffer", "1000-day-buffer"),
    p("services", {"defaultDuration": "PT0S"}, "defaultDuration", "zero-length"),
    p("services", {"defaultDuration": 30}, "defaultDuration", "number-for-duration"),
    p("services", {"defaultDuration": "P99999999999D"}, "defaultDuration", "overflow-iso"),
    p("services", {"preBuffer": "99999999999 days, 0:00:00"}, "preBuffer", "overflow-sdk"),
    p("services", {"preBuffer": "P1" + "0" * 400 + "W"}, "preBuffer", "overflow-infinite"),
    p(
        "bookingBusinesses",
        {"schedulingPolicy": {"timeSlotInterval": "30 minutes"}},
        "schedulingPolicy.timeSlotInterval",
        "prose-interval",
    ),
    # Numbers out of range, and JSON's NaN and Infinity that Python's reader lets in.
    p("services", {"maximumAttendeesCount": 0}, "maximumAttendeesCount", "zero-attendees"),
    p("services", {"maximumAttendeesCount": 100_001}, "maximumAttendeesCount", "100001"),
    p("services", {"defaultPrice": -1}, "defaultPrice", "negative-price"),
    p("services", {"defaultPrice": float("nan")}, "defaultPrice", "nan-price"),
    p("services", {"defaultPrice": float("inf")}, "defaultPrice", "infinite-price"),
    p(
        "services",
        {"defaultLocation": {"coordinates": {"accuracy": float("inf")}}},
        "defaultLocation.coordinates.accuracy",
        "infinite-accuracy",
    ),
    p(
        "services",
        {"defaultLocation": {"coordinates": {"altitude": float("nan")}}},
        "defaultLocation.coordinates.altitude",
        "nan-altitude",
    ),
    # Working hours.
    p("staffMembers", {"workingHours": HOURS_BACKWARDS}, "workingHours", "end-before-start"),
    p("bookingBusinesses", {"businessHours": HOURS_BACKWARDS}, "businessHours", "end-first"),
    p("bookingBusinesses", {"businessHours": DUPLICATE_DAY}, "businessHours", "duplicate-day"),
    p("staffMembers", {"workingHours": DUPLICATE_DAY}, "workingHours", "duplicate-day"),
    # Enumerations and codes.
    p("bookingBusinesses", {"defaultCurrencyIso": "XYZ"}, "defaultCurrencyIso", "currency"),
    p("bookingBusinesses", {"defaultCurrencyIso": None}, "defaultCurrencyIso", "null-currency"),
    p("staffMembers", {"role": "boss"}, "role", "unknown-role"),
    p("customQuestions", {"answerInputType": "checkbox"}, "answerInputType", "unknown-type"),
    p("customQuestions", {"answerOptions": ["Yes", "Yes"]}, "answerOptions", "duplicates"),
    p("services", {"defaultPriceType": "cheap"}, "defaultPriceType", "unknown-price-type"),
    # Not-null properties set to null.
    p("services", {"maximumAttendeesCount": None}, "maximumAttendeesCount", "null-int"),
    p("services", {"staffMemberIds": None}, "staffMemberIds", "null-list"),
    p("staffMembers", {"role": None}, "role", "null-role"),
    p("bookingBusinesses", {"businessHours": None}, "businessHours", "null-hours"),
    p("customers", {"phones": None}, "phones", "null-phones"),
    # References to records that do not exist in the business.
    p("services", {"staffMemberIds": ["no-such-staff"]}, "staffMemberIds", "unknown-staff"),
    p(
        "services",
        {"customQuestions": [{"questionId": "no-such-question", "isRequired": True}]},
        "customQuestions",
        "unknown-question",
    ),
]


@pytest.mark.parametrize(("resource", "body", "names"), BAD_VALUES)
def test_create_with_a_bad_value_is_400_and_stores_nothing(
    client, auth, seeded, resource, body, names
):
    collection = seeded.collection(resource)
    before = count(client, auth, collection)

    response = send(client, auth, "POST", collection, {**RESOURCES[resource].valid, **body})

    assert_graph_error(response, 400, "badRequest", names)
    assert count(client, auth, collection) == before


@pytest.mark.parametrize(("resource", "body", "names"), BAD_VALUES)
def test_patch_with_a_bad_value_changes_nothing(client, auth, seeded, resource, body, names):
    item = seeded.items[resource]
    before = client.get(item, headers=auth).json()
    # A valid change travels with the bad one: neither may be applied.
    mixed = {"displayName": "Renamed", **body}

    response = send(client, auth, "PATCH", item, mixed)

    assert_graph_error(response, 400, "badRequest", names)
    assert client.get(item, headers=auth).json() == before


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"displayName": "Cut off', id="truncated"),
        pytest.param("{'displayName': 'x'}", id="single-quotes"),
        pytest.param('{"displayName": "x",}', id="trailing-comma"),
    ],
)
def test_malformed_json_is_400(client, auth, seeded, resource, text):
    collection = seeded.collection(resource)
    item = seeded.items[resource]
    before_count = count(client, auth, collection)
    before = client.get(item, headers=auth).json()

    created = send(client, auth, "POST", collection, text)
    patched = send(client, auth, "PATCH", item, text)

    for response in (created, patched):
        assert_graph_error(response, 400, "badRequest", "JSON")
    assert count(client, auth, collection) == before_count
    assert client.get(item, headers=auth).json() == before


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[{"displayName": "x"}]', id="array"),
        pytest.param('"displayName"', id="string"),
        pytest.param("42", id="number"),
        pytest.param("null", id="null"),
        pytest.param("", id="empty"),
    ],
)
def test_a_body_that_is_not_an_object_is_400(client, auth, seeded, resource, text):
    collection = seeded.collection(resource)
    item = seeded.items[resource]
    before_count = count(client, auth, collection)
    before = client.get(item, headers=auth).json()

    created = send(client, auth, "POST", collection, text)
    patched = send(client, auth, "PATCH", item, text)

    for response in (created, patched):
        assert_graph_error(response, 400, "badRequest", None)
        message = response.json()["error"]["message"]
        assert "body" in message, message
    assert count(client, auth, collection) == before_count
    assert client.get(item, headers=auth).json() == before


@pytest.mark.parametrize("resource", ALL)
def test_create_without_display_name_is_400(client, auth, seeded, resource):
    collection = seeded.collection(resource)
    body = {key: value for key, value in RESOURCES[resource].valid.items() if key != "displayName"}
    before = count(client, auth, collection)

    response = send(client, auth, "POST", collection, body)

    assert_graph_error(response, 400, "badRequest", "'displayName'")
    assert count(client, auth, collection) == before


@pytest.mark.parametrize("missing", ["emailAddress", "role"])
def test_create_staff_member_without_a_required_property_is_400(client, auth, seeded, missing):
    collection = seeded.collection("staffMembers")
    body = {k: v for k, v in RESOURCES["staffMembers"].valid.items() if k != missing}
    before = count(client, auth, collection)

    response = send(client, auth, "POST", collection, body)

    assert_graph_error(response, 400, "badRequest", f"'{missing}'")
    assert count(client, auth, collection) == before


def test_radio_button_question_without_options_is_400(client, auth, seeded):
    collection = seeded.collection("customQuestions")
    body = {"displayName": "Pick one", "answerInputType": "radioButton"}

    response = send(client, auth, "POST", collection, body)

    assert_graph_error(response, 400, "badRequest", "answerOptions")
    assert count(client, auth, collection) == 1


@pytest.mark.parametrize("resource", ALL)
def test_longest_display_name_is_accepted(client, auth, seeded, resource):
    name = "N" * 255

    response = send(
        client,
        auth,
        "POST",
        seeded.collection(resource),
        {**RESOURCES[resource].valid, "displayName": name},
    )

    assert response.status_code == 201, response.text
    assert response.json()["displayName"] == name


def test_longest_notes_are_accepted(client, auth, seeded):
    notes = "n" * 10_000

    response = send(
        client, auth, "POST", seeded.collection("services"), {"displayName": "Long", "notes": notes}
    )

    assert response.status_code == 201, response.text
    assert response.json()["notes"] == notes


@pytest.mark.parametrize("zone", ["Pacific Standard Time", "India Standard Time", "Europe/Paris"])
def test_windows_and_iana_time_zones_are_accepted_and_echoed(client, auth, seeded, zone):
    body = {**RESOURCES["staffMembers"].valid, "timeZone": zone}

    created = send(client, auth, "POST", seeded.collection("staffMembers"), body)
    settings = {"bookingPageSettings": {"businessTimeZone": zone}}
    patched = send(client, auth, "PATCH", seeded.items["bookingBusinesses"], settings)

    assert created.status_code == 201, created.text
    assert created.json()["timeZone"] == zone
    assert patched.status_code == 204, patched.text
    business = client.get(seeded.items["bookingBusinesses"], headers=auth).json()
    assert business["bookingPageSettings"]["businessTimeZone"] == zone


@pytest.mark.parametrize(
    ("sent", "returned"),
    [("0:30:00", "PT30M"), ("1 day, 0:00:00", "P1D"), ("PT1H30M", "PT1H30M"), ("P1D", "P1D")],
)
def test_sdk_and_iso_durations_are_accepted(client, auth, seeded, sent, returned):
    body = {"displayName": "Visit", "defaultDuration": sent, "preBuffer": sent}

    response = send(client, auth, "POST", seeded.collection("services"), body)

    assert response.status_code == 201, response.text
    assert response.json()["defaultDuration"] == returned
    assert response.json()["preBuffer"] == returned


def test_boundary_numbers_are_accepted(client, auth, seeded):
    body = {"displayName": "Group", "maximumAttendeesCount": 1, "defaultPrice": 0}

    response = send(client, auth, "POST", seeded.collection("services"), body)

    assert response.status_code == 201, response.text
    assert response.json()["maximumAttendeesCount"] == 1
    assert response.json()["defaultPrice"] == 0


def test_a_slot_ending_at_midnight_is_accepted(client, auth, seeded):
    hours = [{"day": "friday", "timeSlots": [{"startTime": "18:00", "endTime": "00:00"}]}]
    body = {**RESOURCES["staffMembers"].valid, "workingHours": hours}

    response = send(client, auth, "POST", seeded.collection("staffMembers"), body)

    assert response.status_code == 201, response.text


def test_existing_staff_and_questions_are_accepted_on_a_service(client, auth, seeded, runtime):
    staff_id = make_staff(runtime, seeded.business, "Dr. Lin")
    question_id = make_question(runtime, seeded.business, "Anything else?")
    body = {
        "displayName": "Assigned",
        "staffMemberIds": [staff_id],
        "customQuestions": [{"questionId": question_id, "isRequired": True}],
    }

    response = send(client, auth, "POST", seeded.collection("services"), body)

    assert response.status_code == 201, response.text
    assert response.json()["staffMemberIds"] == [staff_id]


def test_staff_of_another_business_is_refused_on_a_service(client, auth, seeded, runtime):
    other = make_business(runtime, "Other Clinic")
    foreign_staff = make_staff(runtime, other, "Dr. Far")
    item = seeded.items["services"]
    before = client.get(item, headers=auth).json()

    response = send(client, auth, "PATCH", item, {"staffMemberIds": [foreign_staff]})

    assert_graph_error(response, 400, "badRequest", "staffMemberIds")
    assert client.get(item, headers=auth).json() == before


@pytest.mark.parametrize("resource", ALL)
def test_unknown_properties_and_annotations_are_ignored(client, auth, seeded, resource):
    body = {
        **RESOURCES[resource].valid,
        "@odata.type": "#microsoft.graph.bookingSomething",
        "priceType@odata.type": "#microsoft.graph.bookingPriceType",
        "displayName@odata.type": "#Edm.String",
        "favouriteColour": "teal",
        "nested": {"deep": [1, 2, 3]},
        "id": "chosen-by-client",
        "createdDateTime": "2001-01-01T00:00:00Z",
    }
    collection = seeded.collection(resource)
    before = count(client, auth, collection)

    response = send(client, auth, "POST", collection, body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] != "chosen-by-client"
    assert "favouriteColour" not in created
    assert created["createdDateTime"] != "2001-01-01T00:00:00Z"
    assert count(client, auth, collection) == before + 1


@pytest.mark.parametrize("resource", ALL)
def test_patch_with_only_unknown_properties_changes_nothing(client, auth, seeded, resource):
    item = seeded.items[resource]
    before = client.get(item, headers=auth).json()

    response = send(client, auth, "PATCH", item, {"favouriteColour": "teal", "@odata.etag": "x"})

    assert response.status_code == RESOURCES[resource].patch_status, response.text
    after = client.get(item, headers=auth).json()
    assert {k: v for k, v in after.items() if k != "lastUpdatedDateTime"} == {
        k: v for k, v in before.items() if k != "lastUpdatedDateTime"
    }


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("resource", ALL)
def test_unknown_ids_are_404_item_not_found(client, auth, seeded, resource, method):
    if resource == "bookingBusinesses":
        urls = [f"{BUSINESSES}/nobody@openvisit.test"]
    else:
        urls = [
            f"{seeded.collection(resource)}/00000000-0000-0000-0000-000000000000",
            f"{BUSINESSES}/nobody@openvisit.test/{resource}/"
            + seeded.items[resource].rsplit("/", 1)[1],
        ]
    for url in urls:
        response = send(client, auth, method, url, {"displayName": "Renamed"})

        assert_graph_error(response, 404, "itemNotFound", None)
        assert url.rsplit("/", 1)[1] in response.json()["error"]["message"] or (
            "nobody@openvisit.test" in response.json()["error"]["message"]
        )


@pytest.mark.parametrize("resource", ALL[1:])
def test_a_record_is_not_found_through_another_business(client, auth, seeded, runtime, resource):
    other = make_business(runtime, "Other Clinic")
    record_id = seeded.items[resource].rsplit("/", 1)[1]
    before = client.get(seeded.items[resource], headers=auth).json()

    for method in ("GET", "PATCH", "DELETE"):
        url = f"{BUSINESSES}/{other}/{resource}/{record_id}"
        response = send(client, auth, method, url, {"displayName": "Hijacked"})
        assert_graph_error(response, 404, "itemNotFound", record_id)

    assert client.get(seeded.items[resource], headers=auth).json() == before


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("a%00b", id="business"),
        pytest.param("{business}/customers/a%00b", id="record"),
        pytest.param("{business}/services/%00", id="record-only-nul"),
    ],
)
def test_ids_with_nul_characters_are_404(client, auth, seeded, path, method):
    # Regression: PostgreSQL refused the query (500) instead of finding nothing.
    url = f"{BUSINESSES}/{path.format(business=seeded.business)}"

    response = send(client, auth, method, url, {"displayName": "x"})

    assert_graph_error(response, 404, "itemNotFound", None)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        pytest.param("$skip=" + "9" * 30, "$skip", id="skip-beyond-bigint"),
        pytest.param("$skip=" + "9" * 5000, "$skip", id="skip-beyond-int-parsing"),
        pytest.param("$skip=%C2%B2", "$skip", id="skip-superscript-two"),
        pytest.param("$top=%C2%B2", "$top", id="top-superscript-two"),
        pytest.param("$top=%D9%A3", "$top", id="top-arabic-indic-digit"),
        pytest.param(
            "$filter=maximumAttendeesCount eq " + "9" * 30,
            "maximumAttendeesCount",
            id="filter-int-beyond-bigint",
        ),
        pytest.param(
            "$filter=maximumAttendeesCount gt 3000000000",
            "maximumAttendeesCount",
            id="filter-int-beyond-int32",
        ),
        pytest.param(
            "$filter=maximumAttendeesCount lt 1e999", "maximumAttendeesCount", id="filter-int-inf"
        ),
        pytest.param("$filter=defaultPrice lt 1e999", "defaultPrice", id="filter-float-inf"),
        pytest.param(
            "$filter=defaultPrice lt " + "9" * 400, "defaultPrice", id="filter-float-beyond-double"
        ),
        pytest.param(
            "$filter=createdDateTime gt 9999-12-31T23:59:59-14:00",
            "createdDateTime",
            id="filter-date-after-year-9999-in-utc",
        ),
        pytest.param(
            "$filter=createdDateTime gt 0001-01-01T00:00:00%2B14:00",
            "createdDateTime",
            id="filter-date-before-year-1-in-utc",
        ),
        pytest.param("$filter=displayName eq 'a%00b'", "$filter", id="filter-nul-literal"),
        pytest.param("$filter=contains(displayName,'%00')", "$filter", id="filter-nul-function"),
        pytest.param("$orderby=displayName%00", "$orderby", id="orderby-nul"),
    ],
)
def test_out_of_range_query_options_are_400(client, auth, seeded, query, names):
    # Regression: each of these raised in the driver or in int() and answered 500.
    response = client.get(f"{seeded.collection('services')}?{query}", headers=auth)

    assert_graph_error(response, 400, "badRequest", names)


def test_business_search_with_a_nul_character_is_400(client, auth, seeded):
    response = client.get(f"{BUSINESSES}?query=a%00b", headers=auth)

    assert_graph_error(response, 400, "badRequest", "query")


def test_large_but_valid_paging_still_works(client, auth, seeded):
    response = client.get(
        f"{seeded.collection('services')}?$skip=2147483647&$top=1000", headers=auth
    )

    assert response.status_code == 200, response.text
    assert response.json()["value"] == []
