"""Services, staff, customers and custom questions over HTTP: Graph's shapes and codes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.factories import BUSINESSES, make_business, make_question, make_staff


@pytest.fixture
def business(runtime) -> str:
    return make_business(runtime)


def test_service_round_trips_durations_and_references(client, auth, runtime, business):
    staff = make_staff(runtime, business)
    question = make_question(runtime, business)
    body = {
        "displayName": "Online visit",
        "defaultDuration": "PT30M",
        "preBuffer": "PT10M",
        "postBuffer": "0:10:00",  # the form msgraph-sdk sends
        "defaultPrice": 40.0,
        "defaultPriceType": "fixedPrice",
        "defaultReminders": [{"offset": "P1D", "recipients": "customer", "message": "Tomorrow!"}],
        "staffMemberIds": [staff],
        "customQuestions": [{"questionId": question, "isRequired": True}],
        "maximumAttendeesCount": 1,
        "isLocationOnline": True,
        "priceType@odata.type": "#microsoft.graph.bookingPriceType",
    }

    created = client.post(f"{BUSINESSES}/{business}/services", json=body, headers=auth)

    assert created.status_code == 201, created.text
    service = created.json()
    assert service["defaultDuration"] == "PT30M"
    assert service["postBuffer"] == "PT10M"
    assert service["staffMemberIds"] == [staff]
    assert service["customQuestions"] == [{"questionId": question, "isRequired": True}]
    assert service["defaultReminders"][0]["offset"] == "P1D"
    assert service["@odata.context"].endswith(f"bookingBusinesses('{business}')/services/$entity")


def test_staff_accepts_windows_time_zone_names(client, auth, business):
    body = {
        "displayName": "Dan",
        "emailAddress": "dan@example.test",
        "role": "viewer",
        "timeZone": "Pacific Standard Time",
        "useBusinessHours": True,
    }

    created = client.post(f"{BUSINESSES}/{business}/staffMembers", json=body, headers=auth)

    assert created.status_code == 201, created.text
    assert created.json()["timeZone"] == "Pacific Standard Time"
    assert created.json()["@odata.type"] == "#microsoft.graph.bookingStaffMember"


def test_evolvable_roles_need_the_prefer_header(client, auth, runtime, business):
    staff = make_staff(runtime, business, role="teamMember")
    url = f"{BUSINESSES}/{business}/staffMembers/{staff}"

    plain = client.get(url, headers=auth).json()
    asked = client.get(url, headers={**auth, "Prefer": "include-unknown-enum-members"}).json()

    assert plain["role"] == "unknownFutureValue"
    assert asked["role"] == "teamMember"


def test_customer_update_answers_200_with_the_entity(client, auth, business):
    created = client.post(
        f"{BUSINESSES}/{business}/customers",
        headers=auth,
        json={
            "displayName": "Joni Sherman",
            "emailAddress": "joni@example.test",
            "phones": [{"number": "+1 206 555 0100", "type": "home"}],
            "addresses": [{"street": "1 Way", "city": "Bellevue", "type": "home"}],
        },
    ).json()

    updated = client.patch(
        f"{BUSINESSES}/{business}/customers/{created['id']}",
        json={"displayName": "Joni S."},
        headers=auth,
    )

    assert created["@odata.type"] == "#microsoft.graph.bookingCustomer"
    assert updated.status_code == 200
    assert updated.json()["displayName"] == "Joni S."
    assert updated.json()["phones"][0]["number"] == "+1 206 555 0100"


def test_radio_question_needs_options(client, auth, business):
    bad = client.post(
        f"{BUSINESSES}/{business}/customQuestions",
        headers=auth,
        json={"displayName": "Pick", "answerInputType": "radioButton"},
    )
    good = client.post(
        f"{BUSINESSES}/{business}/customQuestions",
        headers=auth,
        json={
            "displayName": "Pick",
            "answerInputType": "radioButton",
            "answerOptions": ["Yes", "No"],
        },
    )

    assert bad.status_code == 400
    assert "answerOptions" in bad.json()["error"]["message"]
    assert good.status_code == 201
    assert good.json()["answerOptions"] == ["Yes", "No"]


def test_patch_cannot_leave_a_radio_question_without_options(client, auth, runtime, business):
    question = make_question(
        runtime, business, answer_input_type="radioButton", answer_options=["Yes"]
    )
    url = f"{BUSINESSES}/{business}/customQuestions/{question}"

    emptied = client.patch(url, json={"answerOptions": []}, headers=auth)
    switched = client.patch(
        f"{BUSINESSES}/{business}/customQuestions/{make_question(runtime, business)}",
        json={"answerInputType": "radioButton"},
        headers=auth,
    )

    assert emptied.status_code == 400
    assert switched.status_code == 400
    assert "answerOptions" in emptied.json()["error"]["message"]
    assert client.get(url, headers=auth).json()["answerOptions"] == ["Yes"]


def test_business_ids_match_case_insensitively(client, auth, runtime, business):
    staff = make_staff(runtime, business)
    upper = business.upper()

    assert client.get(f"{BUSINESSES}/{upper}", headers=auth).json()["id"] == business
    assert client.get(f"{BUSINESSES}/{upper}/staffMembers/{staff}", headers=auth).status_code == 200


@pytest.mark.parametrize("duration", ["PT0.5S", "PT30M0.25S"])
def test_durations_must_be_whole_seconds(client, auth, business, duration):
    response = client.post(
        f"{BUSINESSES}/{business}/services",
        headers=auth,
        json={"displayName": "Odd", "defaultDuration": duration},
    )

    assert response.status_code == 400
    assert "defaultDuration" in response.json()["error"]["message"]


def test_service_web_url_uses_the_public_base_url(client, auth, runtime, business):
    client.app.state.runtime = replace(runtime, base_url="https://visits.example")

    created = client.post(
        f"{BUSINESSES}/{business}/services", headers=auth, json={"displayName": "Checkup"}
    ).json()

    assert created["webUrl"] == (f"https://visits.example/book/{business}/services/{created['id']}")


def test_currencies_page_and_count(client, auth):
    body = client.get(
        "/v1.0/solutions/bookingCurrencies?$top=2&$skip=1&$count=true&$select=id", headers=auth
    ).json()
    refused = client.get("/v1.0/solutions/bookingCurrencies?$filter=id eq 'USD'", headers=auth)

    assert [item["id"] for item in body["value"]] == ["AFN", "ALL"]
    assert body["@odata.count"] > 150
    assert refused.status_code == 400


def test_records_of_another_business_are_not_found(client, auth, runtime):
    first = make_business(runtime, "First")
    second = make_business(runtime, "Second")
    staff = make_staff(runtime, first)

    response = client.get(f"{BUSINESSES}/{second}/staffMembers/{staff}", headers=auth)

    assert response.status_code == 404


def test_currencies_list_iso_4217_with_symbols(client, auth):
    listing = client.get("/v1.0/solutions/bookingCurrencies", headers=auth).json()
    euro = client.get("/v1.0/solutions/bookingCurrencies/EUR", headers=auth).json()
    missing = client.get("/v1.0/solutions/bookingCurrencies/XXQ", headers=auth)

    codes = {item["id"]: item["symbol"] for item in listing["value"]}
    assert codes["USD"] == "$"
    assert codes["JPY"] == "¥"
    assert len(codes) > 150
    assert euro == {"@odata.context": euro["@odata.context"], "id": "EUR", "symbol": "€"}
    assert missing.status_code == 404


def test_deleting_staff_or_a_question_removes_it_from_services(client, auth, runtime, business):
    kept, gone = (
        make_staff(runtime, business, "Dr. Kept"),
        make_staff(runtime, business, "Dr. Gone"),
    )
    question = make_question(runtime, business)
    service = client.post(
        f"{BUSINESSES}/{business}/services",
        headers=auth,
        json={
            "displayName": "Visit",
            "staffMemberIds": [kept, gone],
            "customQuestions": [{"questionId": question, "isRequired": True}],
        },
    ).json()

    client.delete(f"{BUSINESSES}/{business}/staffMembers/{gone}", headers=auth)
    client.delete(f"{BUSINESSES}/{business}/customQuestions/{question}", headers=auth)
    after = client.get(f"{BUSINESSES}/{business}/services/{service['id']}", headers=auth).json()
    written_back = client.patch(
        f"{BUSINESSES}/{business}/services/{service['id']}",
        headers=auth,
        json={"staffMemberIds": after["staffMemberIds"]},
    )

    assert after["staffMemberIds"] == [kept]
    assert after["customQuestions"] == []
    assert written_back.status_code == 204


def test_service_change_cutoff_is_an_openvisit_extension(client, auth, business):
    created = client.post(
        f"{BUSINESSES}/{business}/services",
        headers=auth,
        json={"displayName": "Consult", "changeCutoff": "P1D"},
    ).json()
    default = client.post(
        f"{BUSINESSES}/{business}/services", headers=auth, json={"displayName": "Plain"}
    ).json()
    too_long = client.post(
        f"{BUSINESSES}/{business}/services",
        headers=auth,
        json={"displayName": "Odd", "changeCutoff": "P31D"},
    )

    assert created["changeCutoff"] == "P1D"
    assert default["changeCutoff"] == "PT0S"
    assert too_long.status_code == 400
    assert "changeCutoff" in too_long.json()["error"]["message"]
