"""Every online bookingAppointment has a meeting, kept in step in the booking's
transaction: booked, moved, made offline and online, cancelled, deleted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from openvisit.audit.actions import Action
from openvisit.join_links import read_join_token
from openvisit.runtime import Runtime
from openvisit.store.models import AuditRecord, OnlineMeeting
from tests.bookings.clinic import Clinic, make_clinic
from tests.conftest import TEST_NOW, TEST_SECRET
from tests.factories import BUSINESSES, make_business, make_staff
from tests.meetings.helpers import add_online_service, app_token, make_user, user_token

TUESDAY_10 = {"dateTime": "2026-11-24T15:00:00Z", "timeZone": "UTC"}
TUESDAY_11 = {"dateTime": "2026-11-24T16:00:00Z", "timeZone": "UTC"}


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    place = make_clinic(runtime)
    add_online_service(runtime, place)
    place["url"] = f"{BUSINESSES}/{place['business']}/appointments"
    return place


def meeting_of(runtime: Runtime, appointment_id: str) -> OnlineMeeting | None:
    with runtime.db.read() as session:
        return session.scalar(
            select(OnlineMeeting).where(OnlineMeeting.appointment_id == appointment_id)
        )


def book(client, auth, clinic, **extra: Any) -> dict[str, Any]:
    sent = {
        "serviceId": clinic["online"],
        "startDateTime": TUESDAY_10,
        "staffMemberIds": [clinic["ann"]],
        **extra,
    }
    response = client.post(clinic["url"], json=sent, headers=auth)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def test_an_online_service_books_a_meeting_with_both_links(client, auth, runtime, clinic):
    ann = make_user(runtime, "ann@example.test", "Dr. Ann")

    appointment = book(client, auth, clinic)

    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None
    assert (meeting.start_date_time.isoformat(), meeting.subject) == (
        "2026-11-24T15:00:00+00:00",
        "Video visit",
    )
    assert meeting.organizer_user_id == ann.id  # the provider signs in as Ann
    assert meeting.business_id == clinic["business"]
    assert appointment["isLocationOnline"] is True  # taken from the service
    assert appointment["joinWebUrl"] == f"http://testserver/visits/{meeting.id}"
    token = appointment["anonymousJoinWebUrl"].removeprefix("http://testserver/join/")
    claim = read_join_token(TEST_SECRET, token, now=TEST_NOW)
    assert (claim.meeting_id, claim.role) == (meeting.id, "consumer")
    # The same meeting is on the provider's /me/onlineMeetings.
    mine = client.get("/v1.0/me/onlineMeetings", headers=user_token(runtime, ann)).json()
    assert [item["id"] for item in mine["value"]] == [meeting.id]
    beta = client.get(
        f"/beta/solutions/bookingBusinesses/{clinic['business']}/appointments/{appointment['id']}",
        headers=auth,
    ).json()
    assert beta["onlineMeetingUrl"] == appointment["joinWebUrl"]
    listed = client.get(clinic["url"], headers=auth).json()["value"]
    assert listed[0]["anonymousJoinWebUrl"] == appointment["anonymousJoinWebUrl"]


def test_an_appointment_may_be_online_by_itself_and_offline_has_none(client, auth, runtime, clinic):
    offline = book(client, auth, clinic, serviceId=clinic["visit"])
    online = book(
        client,
        auth,
        clinic,
        serviceId=clinic["visit"],
        isLocationOnline=True,
        startDateTime=TUESDAY_11,
    )
    assert meeting_of(runtime, offline["id"]) is None
    assert (offline["joinWebUrl"], offline["anonymousJoinWebUrl"]) == (None, None)
    assert meeting_of(runtime, online["id"]) is not None
    assert online["joinWebUrl"] is not None


def test_a_move_moves_the_meeting_and_its_links(client, auth, runtime, clinic):
    appointment = book(client, auth, clinic)
    item = f"{clinic['url']}/{appointment['id']}"

    moved = client.patch(item, json={"startDateTime": TUESDAY_11}, headers=auth)

    assert moved.status_code == 204, moved.text
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None
    assert meeting.start_date_time.isoformat() == "2026-11-24T16:00:00+00:00"
    after = client.get(item, headers=auth).json()
    assert after["joinWebUrl"] == appointment["joinWebUrl"]  # the same room
    assert after["anonymousJoinWebUrl"] != appointment["anonymousJoinWebUrl"]  # lasts longer


def test_offline_then_online_cancels_and_reopens(client, auth, runtime, clinic):
    appointment = book(client, auth, clinic)
    item = f"{clinic['url']}/{appointment['id']}"

    client.patch(item, json={"isLocationOnline": False}, headers=auth)
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None and (meeting.status, meeting.link_version) == ("cancelled", 1)
    assert client.get(item, headers=auth).json()["anonymousJoinWebUrl"] is None

    client.patch(item, json={"isLocationOnline": True}, headers=auth)
    reopened = meeting_of(runtime, appointment["id"])
    assert reopened is not None and (reopened.status, reopened.link_version) == ("scheduled", 1)


def test_cancel_revokes_the_links_and_delete_removes_the_meeting(client, auth, runtime, clinic):
    ann = make_user(runtime, "ann@example.test", "Dr. Ann")
    first = book(client, auth, clinic)
    second = book(client, auth, clinic, startDateTime=TUESDAY_11)
    meeting = meeting_of(runtime, first["id"])
    assert meeting is not None

    cancelled = client.post(f"{clinic['url']}/{first['id']}/cancel", json={}, headers=auth)

    assert cancelled.status_code == 204
    after = meeting_of(runtime, first["id"])
    assert after is not None and (after.status, after.link_version) == ("cancelled", 1)
    refused = client.get(
        f"/v1.0/me/onlineMeetings/{meeting.id}/getVirtualAppointmentJoinWebUrl",
        headers=user_token(runtime, ann),
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["innerError"]["code"] == "meetingCancelled"

    deleted = client.delete(f"{clinic['url']}/{second['id']}", headers=auth)
    assert deleted.status_code == 204
    assert meeting_of(runtime, second["id"]) is None
    with runtime.db.read() as session:
        actions = dict(
            session.execute(
                select(AuditRecord.action, func.count())
                .where(AuditRecord.action.like("openvisit.onlineMeeting.%"))
                .group_by(AuditRecord.action)
            ).all()
        )
    assert actions == {
        Action.MEETING_CREATED.value: 2,
        Action.MEETING_CANCELLED.value: 1,
        Action.MEETING_DELETED.value: 1,
    }


def test_an_appointment_meeting_is_not_deleted_through_the_meeting_api(
    client, runtime, clinic, auth
):
    ann = make_user(runtime, "ann@example.test", "Dr. Ann")
    appointment = book(client, auth, clinic)
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None
    headers = user_token(runtime, ann)
    path = f"/v1.0/me/onlineMeetings/{meeting.id}"
    refused = client.delete(path, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["innerError"]["code"] == "meetingOfAppointment"
    moved = client.patch(path, json={"startDateTime": "2026-11-24T18:00:00Z"}, headers=headers)
    assert moved.status_code == 409
    retitled = client.patch(path, json={"allowMeetingChat": "disabled"}, headers=headers)
    assert retitled.status_code == 200
    assert retitled.json()["allowMeetingChat"] == "disabled"


def test_a_staff_user_created_after_the_booking_organises_its_meeting(
    client, auth, runtime, clinic
):
    appointment = book(client, auth, clinic)  # nobody signs in as Dr. Ann yet
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None and meeting.organizer_user_id is None

    ann = make_user(runtime, "Ann@Example.test", "Dr. Ann")  # the office manager adds her

    mine = client.get("/v1.0/me/onlineMeetings", headers=user_token(runtime, ann))
    assert [item["id"] for item in mine.json()["value"]] == [meeting.id]
    one = client.get(f"/v1.0/me/onlineMeetings/{meeting.id}", headers=user_token(runtime, ann))
    assert one.status_code == 200, one.text
    reader = app_token(runtime, "OnlineMeetings.Read.All")
    theirs = client.get(f"/v1.0/users/{ann.id}/onlineMeetings", headers=reader).json()
    assert [item["id"] for item in theirs["value"]] == [meeting.id]
    with runtime.db.read() as session:
        adopted = session.scalars(
            select(AuditRecord.data).where(
                AuditRecord.action == Action.MEETING_UPDATED.value,
                AuditRecord.subject == meeting.id,
            )
        ).all()
    assert adopted == [{"appointmentId": appointment["id"], "changed": ["organizer_user_id"]}]


def test_a_user_of_another_business_gets_none_of_its_meetings(client, auth, runtime, clinic):
    elsewhere = make_business(runtime, "Fabrikam Dental")
    make_staff(runtime, elsewhere, "Dr. Zed")
    appointment = book(client, auth, clinic)

    zed = make_user(runtime, "zed@example.test", "Dr. Zed")

    mine = client.get("/v1.0/me/onlineMeetings", headers=user_token(runtime, zed)).json()
    assert mine["value"] == []
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None and meeting.organizer_user_id is None


def test_an_organizer_already_chosen_is_kept(client, auth, runtime, clinic):
    bob = make_user(runtime, "bob@example.test", "Dr. Bob")
    appointment = book(client, auth, clinic, staffMemberIds=[clinic["ann"], clinic["bob"]])
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None and meeting.organizer_user_id == bob.id

    ann = make_user(runtime, "ann@example.test", "Dr. Ann")  # first of the two providers

    kept = meeting_of(runtime, appointment["id"])
    assert kept is not None and kept.organizer_user_id == bob.id
    mine = client.get("/v1.0/me/onlineMeetings", headers=user_token(runtime, ann)).json()
    assert mine["value"] == []


def test_a_provider_given_a_users_email_has_them_organise_its_meetings(
    client, auth, runtime, clinic
):
    annie = make_user(runtime, "annie@example.test", "Dr. Ann")  # signs in under another
    appointment = book(client, auth, clinic)
    meeting = meeting_of(runtime, appointment["id"])
    assert meeting is not None and meeting.organizer_user_id is None

    fixed = client.patch(
        f"{BUSINESSES}/{clinic['business']}/staffMembers/{clinic['ann']}",
        json={"emailAddress": "Annie@example.test"},
        headers=auth,
    )

    assert fixed.status_code == 204, fixed.text
    mine = client.get("/v1.0/me/onlineMeetings", headers=user_token(runtime, annie)).json()
    assert [item["id"] for item in mine["value"]] == [meeting.id]
