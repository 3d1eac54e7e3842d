"""bookingBusiness life cycle over HTTP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from openvisit.store.models import AuditRecord
from tests.factories import BUSINESSES, make_business, make_service, make_staff

NEW_BUSINESS = {
    "displayName": "Fourth Coffee",
    "address": {
        "street": "4567 Main Street",
        "city": "Buffalo",
        "state": "NY",
        "countryOrRegion": "USA",
        "postalCode": "98052",
    },
    "businessHours": [
        {
            "day": "monday",
            "timeSlots": [
                {"startTime": "08:00:00.0000000", "endTime": "12:00:00.0000000"},
                {"startTime": "13:00:00.0000000", "endTime": "17:00:00.0000000"},
            ],
        },
        {"day": "sunday", "timeSlots": []},
    ],
    "schedulingPolicy": {
        "timeSlotInterval": "PT1H",
        "minimumLeadTime": "P1D",
        "maximumAdvance": "P365D",
        "sendConfirmationsToOwner": True,
        "allowStaffSelection": True,
        "@odata.type": "#microsoft.graph.bookingSchedulingPolicy",
    },
    "email": "manager@fourthcoffee.example",
    "phone": "206-555-0100",
    "webSiteUrl": "https://www.fourthcoffee.example",
    "defaultCurrencyIso": "USD",
    "languageTag": "en-US",
    "bookingPageSettings": {
        "businessTimeZone": "Pacific Standard Time",
        "bookingPageColorCode": "#123456",
    },
}


def test_create_returns_201_with_a_mailbox_style_id_and_everything_written(client, auth):
    response = client.post(BUSINESSES, json=NEW_BUSINESS, headers=auth)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == "fourthcoffee@openvisit.test"
    assert body["@odata.context"] == (
        "http://testserver/v1.0/$metadata#solutions/bookingBusinesses/$entity"
    )
    for key in ("displayName", "email", "phone", "webSiteUrl", "defaultCurrencyIso", "languageTag"):
        assert body[key] == NEW_BUSINESS[key]
    assert body["address"]["city"] == "Buffalo"
    assert body["businessHours"][0]["timeSlots"][1] == {
        "startTime": "13:00:00.0000000",
        "endTime": "17:00:00.0000000",
    }
    assert body["businessHours"][1] == {"day": "sunday", "timeSlots": []}
    assert body["schedulingPolicy"]["minimumLeadTime"] == "P1D"
    assert body["schedulingPolicy"]["maximumAdvance"] == "P365D"
    assert body["bookingPageSettings"]["businessTimeZone"] == "Pacific Standard Time"
    assert body["isPublished"] is False
    assert body["publicUrl"] is None
    assert body["createdDateTime"] == "2026-11-23T14:00:00Z"


def test_same_name_gets_a_distinct_id(client, auth):
    first = client.post(BUSINESSES, json={"displayName": "Café Ünïcode"}, headers=auth)
    second = client.post(BUSINESSES, json={"displayName": "Cafe Unicode"}, headers=auth)

    assert first.json()["id"] == "cafeunicode@openvisit.test"
    assert second.json()["id"] == "cafeunicode2@openvisit.test"


def test_new_business_gets_bookings_default_hours_and_policy(client, auth):
    body = client.post(BUSINESSES, json={"displayName": "Plain"}, headers=auth).json()

    monday = next(day for day in body["businessHours"] if day["day"] == "monday")
    assert monday["timeSlots"] == [{"startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000"}]
    assert body["schedulingPolicy"]["timeSlotInterval"] == "PT30M"
    assert body["defaultCurrencyIso"] == "USD"


def test_patch_changes_only_what_was_sent(client, auth, runtime, clock):
    business = make_business(runtime, phone="+1 206 555 0100", email="a@example.test")
    clock.advance(timedelta(minutes=5))

    response = client.patch(
        f"{BUSINESSES}/{business}",
        headers=auth,
        json={"email": "b@example.test", "readOnlyThing": 1},
    )
    body = client.get(f"{BUSINESSES}/{business}", headers=auth).json()

    assert response.status_code == 204
    assert response.content == b""
    assert body["email"] == "b@example.test"
    assert body["phone"] == "+1 206 555 0100"
    assert body["lastUpdatedDateTime"] == "2026-11-23T14:05:00Z"
    assert body["createdDateTime"] == "2026-11-23T14:00:00Z"


def test_publish_and_unpublish_set_public_url(client, auth, runtime):
    business = make_business(runtime)

    assert client.post(f"{BUSINESSES}/{business}/publish", headers=auth).status_code == 204
    published = client.get(f"{BUSINESSES}/{business}", headers=auth).json()
    assert client.post(f"{BUSINESSES}/{business}/unpublish", headers=auth).status_code == 204
    unpublished = client.get(f"{BUSINESSES}/{business}", headers=auth).json()

    assert published["isPublished"] is True
    assert published["publicUrl"] == f"http://testserver/book/{business}/"
    assert unpublished["isPublished"] is False
    assert unpublished["publicUrl"] is None


def test_delete_removes_the_business_and_everything_in_it(client, auth, runtime):
    business = make_business(runtime)
    make_service(runtime, business)
    make_staff(runtime, business)

    assert client.delete(f"{BUSINESSES}/{business}", headers=auth).status_code == 204

    assert client.get(f"{BUSINESSES}/{business}", headers=auth).status_code == 404
    assert client.get(f"{BUSINESSES}/{business}/services", headers=auth).status_code == 404
    again = client.delete(f"{BUSINESSES}/{business}", headers=auth)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "itemNotFound"


def test_changes_are_audited(client, auth, runtime):
    business = client.post(BUSINESSES, json={"displayName": "Audited"}, headers=auth).json()
    client.post(f"{BUSINESSES}/{business['id']}/publish", headers=auth)

    with runtime.db.read() as session:
        actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions[-2:] == ["openvisit.business.created", "openvisit.business.published"]
