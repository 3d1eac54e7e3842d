"""onlineMeeting over HTTP: /me and /users/{id}, createOrGet, the JoinWebUrl filter, the
consumer's join link, and who may reach whose meetings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from openvisit.join_links import read_join_token
from openvisit.runtime import Runtime
from tests.conftest import TEST_NOW, TEST_SECRET
from tests.meetings.helpers import app_token, make_user, user_token

ME = "/v1.0/me/onlineMeetings"
START = "2026-11-24T15:00:00Z"
END = "2026-11-24T15:30:00Z"


@pytest.fixture
def osei(runtime: Runtime):
    return make_user(runtime)


@pytest.fixture
def headers(runtime: Runtime, osei):
    return user_token(runtime, osei)


def create(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    sent = {"subject": "Check-up", "startDateTime": START, "endDateTime": END, **body}
    sent = {key: value for key, value in sent.items() if value is not None}
    response = client.post(ME, json=sent, headers=headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def test_create_get_update_delete(client, headers, osei):
    made = create(
        client,
        headers,
        lobbyBypassSettings={"scope": "everyone", "isDialInBypassEnabled": True},
        allowedPresenters="organizer",
        participants={
            "attendees": [{"identity": {"user": {"id": "x", "displayName": "Kim"}}, "upn": "k@x"}]
        },
        joinWebUrl="https://elsewhere.example/ignored",
    )
    meeting_id = made["id"]
    assert made["@odata.context"] == (
        f"http://testserver/v1.0/$metadata#users('{osei.id}')/onlineMeetings/$entity"
    )
    assert made["joinWebUrl"] == f"http://testserver/visits/{meeting_id}"
    assert made["joinUrl"] == made["joinWebUrl"]
    assert (made["startDateTime"], made["endDateTime"]) == (START, END)
    assert made["creationDateTime"] == "2026-11-23T14:00:00Z"
    assert made["lobbyBypassSettings"] == {"scope": "everyone", "isDialInBypassEnabled": True}
    assert made["allowedPresenters"] == "organizer"
    assert made["participants"]["organizer"] == {
        "identity": {"user": {"id": osei.id, "displayName": "Dr. Osei"}},
        "role": "presenter",
        "upn": "osei@example.test",
    }
    assert made["participants"]["attendees"][0]["upn"] == "k@x"
    assert client.get(f"{ME}/{meeting_id}", headers=headers).json() == made

    patched = client.patch(
        f"{ME}/{meeting_id}",
        json={"subject": "Follow-up", "endDateTime": "2026-11-24T17:00:00+01:00"},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["subject"] == "Follow-up"
    assert patched.json()["endDateTime"] == "2026-11-24T16:00:00Z"
    assert patched.json()["startDateTime"] == START
    assert client.delete(f"{ME}/{meeting_id}", headers=headers).status_code == 204
    missing = client.get(f"{ME}/{meeting_id}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["innerError"]["code"] == "meetingNotFound"


def test_create_defaults_to_an_hour_from_now_and_refuses_a_bad_end(client, headers):
    made = client.post(ME, json={}, headers=headers).json()
    assert made["startDateTime"] == "2026-11-23T14:00:00Z"
    assert made["endDateTime"] == "2026-11-23T15:00:00Z"
    assert made["lobbyBypassSettings"] == {"scope": "organizer", "isDialInBypassEnabled": False}
    bad = client.post(ME, json={"startDateTime": START, "endDateTime": START}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["innerError"]["code"] == "endBeforeStart"
    garbled = client.post(ME, json={"startDateTime": "tomorrow"}, headers=headers)
    assert garbled.status_code == 400
    assert garbled.json()["error"]["code"] == "badRequest"


def test_create_or_get_makes_once_then_finds(client, headers):
    body = {"externalId": "ext-7", "subject": "Intake", "startDateTime": START}
    first = client.post(f"{ME}/createOrGet", json=body, headers=headers)
    again = client.post(f"{ME}/createOrGet", json={**body, "subject": "Other"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["externalId"] == "ext-7"
    missing = client.post(f"{ME}/createOrGet", json={"subject": "x"}, headers=headers)
    assert missing.status_code == 400
    assert missing.json()["error"]["innerError"]["code"] == "propertyRequired"
    taken = client.post(ME, json=body, headers=headers)
    assert taken.status_code == 409
    assert taken.json()["error"]["innerError"]["code"] == "externalIdTaken"


def test_list_and_the_join_web_url_filter(client, headers):
    first = create(client, headers)
    second = create(client, headers, startDateTime="2026-11-25T15:00:00Z", endDateTime=None)
    listed = client.get(ME, headers=headers).json()
    assert [item["id"] for item in listed["value"]] == [first["id"], second["id"]]
    url = second["joinWebUrl"]
    found = client.get(ME, params={"$filter": f"JoinWebUrl eq '{url}'"}, headers=headers).json()
    assert [item["id"] for item in found["value"]] == [second["id"]]
    none = client.get(
        ME, params={"$filter": "JoinWebUrl eq 'https://other.example/visits/x'"}, headers=headers
    ).json()
    assert none["value"] == []
    other = client.get(ME, params={"$filter": "subject eq 'x'"}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["innerError"]["code"] == "meetingFilterUnsupported"


def test_the_consumer_link_is_a_join_token_for_this_meeting(client, headers):
    made = create(client, headers)
    answer = client.get(
        f"{ME}/{made['id']}/getVirtualAppointmentJoinWebUrl()", headers=headers
    ).json()
    assert answer["@odata.context"] == "http://testserver/v1.0/$metadata#Edm.String"
    assert answer["value"].startswith("http://testserver/join/")
    claim = read_join_token(TEST_SECRET, answer["value"].rsplit("/", 1)[1], now=TEST_NOW)
    assert (claim.meeting_id, claim.role, claim.version) == (made["id"], "consumer", 0)
    assert claim.expires_at == datetime.fromisoformat(END) + timedelta(hours=6)


def test_users_path_reaches_only_the_callers_own_meetings(client, runtime, headers, osei):
    made = create(client, headers)
    own = client.get(f"/v1.0/users/{osei.email}/onlineMeetings/{made['id']}", headers=headers)
    assert own.status_code == 200
    assert own.json()["@odata.context"].endswith(f"users('{osei.id}')/onlineMeetings/$entity")
    other = make_user(runtime, "ann@example.test", "Ann")
    refused = client.get(f"/v1.0/users/{other.id}/onlineMeetings", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["innerError"]["code"] == "otherUsersMeetings"
    # Another user's meeting looks absent through /me.
    theirs = client.get(f"{ME}/{made['id']}", headers=user_token(runtime, other))
    assert theirs.status_code == 404


def test_an_application_token_needs_the_all_permission_for_users(client, runtime, headers, osei):
    made = create(client, headers)
    path = f"/v1.0/users/{osei.id}/onlineMeetings/{made['id']}"
    weak = client.get(path, headers=app_token(runtime, "OnlineMeetings.ReadWrite"))
    assert weak.status_code == 403
    assert "OnlineMeetings.Read.All" in weak.json()["error"]["message"]
    strong = client.get(path, headers=app_token(runtime, "OnlineMeetings.Read.All"))
    assert strong.status_code == 200
    write = client.patch(
        path, json={"subject": "x"}, headers=app_token(runtime, "OnlineMeetings.Read.All")
    )
    assert write.status_code == 403
    unknown = client.get(
        "/v1.0/users/nobody@example.test/onlineMeetings",
        headers=app_token(runtime, "OnlineMeetings.Read.All"),
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["innerError"]["code"] == "meetingUserNotFound"


def test_scopes_are_checked(client, runtime, osei):
    reader = user_token(runtime, osei, "OnlineMeetings.Read")
    assert client.post(ME, json={}, headers=reader).status_code == 403
    assert client.get(ME, headers=reader).status_code == 200
    assert client.get(ME).status_code == 401


def test_virtual_appointment_put_get_patch_delete(client, headers):
    made = create(client, headers)
    path = f"/beta/me/onlineMeetings/{made['id']}/virtualAppointment"
    assert client.get(path, headers=headers).status_code == 404
    body = {
        "appointmentClients": [
            {
                "displayName": "Jordan Lee",
                "emailAddress": "jordan@example.test",
                "smsCapablePhoneNumber": "+12065550100",
                "timeZone": "Pacific Standard Time",
            }
        ],
        "externalAppointmentId": "crm-42",
        "externalAppointmentUrl": "https://crm.example.test/42",
        "settings": {"allowClientToJoinUsingBrowser": True},
    }
    put = client.put(path, json=body, headers=headers)
    assert put.status_code == 201, put.text
    tag = put.headers["ETag"]
    assert client.put(path, json=body, headers=headers).status_code == 200
    read = client.get(path, headers=headers)
    assert read.headers["ETag"] == tag
    document = read.json()
    assert document["externalAppointmentId"] == "crm-42"
    assert document["appointmentClients"][0]["displayName"] == "Jordan Lee"
    assert document["appointmentClientJoinWebUrl"].startswith("http://testserver/join/")
    # Its clients are the meeting's consumers.
    meeting = client.get(f"/beta/me/onlineMeetings/{made['id']}", headers=headers).json()
    assert meeting["participants"]["attendees"][-1]["upn"] == "jordan@example.test"

    stale = client.patch(
        path, json={"externalAppointmentId": "x"}, headers={**headers, "If-Match": 'W/"old"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "preconditionFailed"
    patched = client.patch(
        path, json={"externalAppointmentId": "crm-43"}, headers={**headers, "If-Match": tag}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["externalAppointmentId"] == "crm-43"
    assert patched.json()["appointmentClients"][0]["emailAddress"] == "jordan@example.test"
    assert patched.headers["ETag"] != tag
    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path, headers=headers).status_code == 404
