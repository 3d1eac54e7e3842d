"""sendVirtualAppointmentSms and ...ReminderSms: notification rows with the consumer's
join link, sent through the SMS transport by the dispatcher, visible in the log."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from openvisit.notify.messages import TextMessage
from openvisit.store.models import Notification, NotificationEvent
from tests.bookings.clinic import make_clinic
from tests.factories import BUSINESSES, make_service
from tests.meetings.helpers import make_user, user_token
from tests.notify.support import Recording, dispatcher

ME = "/v1.0/me/onlineMeetings"
START = "2026-11-24T15:00:00Z"


def meeting(client, headers) -> str:
    made = client.post(
        ME, json={"subject": "Visit", "startDateTime": START}, headers=headers
    ).json()
    return str(made["id"])


def rows(runtime) -> list[Notification]:
    with runtime.db.read() as session:
        return list(
            session.scalars(
                select(Notification).order_by(Notification.due_at, Notification.recipient)
            )
        )


def test_a_confirmation_text_carries_the_join_link_and_goes_out_once(client, runtime, clock):
    osei = make_user(runtime)
    headers = user_token(runtime, osei)
    meeting_id = meeting(client, headers)
    body = {
        "attendees": [
            {"phoneNumber": "+12065550100", "timeZone": "Pacific Standard Time"},
            {"phoneNumber": "(206) 555-0101", "timeZone": "America/Chicago"},
        ],
        "messageType": "confirmation",
    }
    path = f"{ME}/{meeting_id}/sendVirtualAppointmentSms"

    answered = client.post(path, json=body, headers=headers)
    again = client.post(path, json=body, headers=headers)

    assert (answered.status_code, again.status_code) == (202, 202)
    queued = rows(runtime)
    assert [(row.channel, row.recipient, row.meeting_id) for row in queued] == [
        ("sms", "+12065550100", meeting_id),
        ("sms", "+12065550101", meeting_id),
    ]
    transport = Recording()
    sent = asyncio.run(dispatcher(runtime.db, clock, transport).run_once())
    assert sent == 2
    texts = {m.to_number: m.body for m in transport.messages if isinstance(m, TextMessage)}
    pacific = texts["+12065550100"]
    assert pacific.startswith("Dr. Osei: your video appointment is booked for 11/24/26, 7:00")
    assert "Los Angeles" in pacific
    link = pacific.rsplit("\n", 1)[1]
    answer = client.get(f"{ME}/{meeting_id}/getVirtualAppointmentJoinWebUrl", headers=headers)
    assert link == answer.json()["value"]
    with runtime.db.read() as session:
        events = session.scalars(
            select(NotificationEvent.event)
            .where(NotificationEvent.notification_id == queued[0].id)
            .order_by(NotificationEvent.id)
        ).all()
    assert events[0] == "queued"
    assert "sent" in events
    log = client.get(f"{ME}/{meeting_id}/openvisit.notifications", headers=headers).json()
    # Both are due at once; their order is the rows' ids'.
    assert sorted((item["recipient"], item["status"]) for item in log["value"]) == [
        ("+12065550100", "sent"),
        ("+12065550101", "sent"),
    ]
    assert {item["events"][0]["event"] for item in log["value"]} == {"queued"}
    other = make_user(runtime, "ann@example.test", "Ann")
    hidden = client.get(
        f"{ME}/{meeting_id}/openvisit.notifications", headers=user_token(runtime, other)
    )
    assert hidden.status_code == 404


def test_a_reminder_is_due_before_the_start_and_bad_numbers_are_refused(client, runtime, clock):
    osei = make_user(runtime)
    headers = user_token(runtime, osei)
    meeting_id = meeting(client, headers)
    path = f"{ME}/{meeting_id}/sendVirtualAppointmentReminderSms"

    answered = client.post(
        path,
        json={
            "attendees": [{"phoneNumber": "+12065550100"}],
            "remindBeforeTimeInMinutesType": "mins15",
        },
        headers=headers,
    )

    assert answered.status_code == 202, answered.text
    [row] = rows(runtime)
    assert row.kind == "meetingReminder"
    assert row.due_at.isoformat() == "2026-11-24T14:45:00+00:00"
    assert row.expires_at is not None and row.expires_at.isoformat() == "2026-11-24T15:00:00+00:00"
    clock.advance(timedelta(hours=24, minutes=45))  # 14:45Z on the day
    transport = Recording()
    assert asyncio.run(dispatcher(runtime.db, clock, transport).run_once()) == 1
    [reminder] = transport.messages
    assert isinstance(reminder, TextMessage)
    assert reminder.body.startswith("Dr. Osei: reminder of your video appointment")

    bad = client.post(
        f"{ME}/{meeting_id}/sendVirtualAppointmentSms",
        json={"attendees": [{"phoneNumber": "12"}], "messageType": "confirmation"},
        headers=headers,
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["innerError"]["code"] == "noSmsRecipient"
    unknown = client.post(
        f"{ME}/{meeting_id}/sendVirtualAppointmentSms",
        json={"attendees": [{"phoneNumber": "+12065550100"}], "messageType": "later"},
        headers=headers,
    )
    assert unknown.status_code == 400


def test_the_sms_actions_need_their_scope(client, runtime):
    osei = make_user(runtime)
    meeting_id = meeting(client, user_token(runtime, osei))
    refused = client.post(
        f"{ME}/{meeting_id}/sendVirtualAppointmentSms",
        json={"attendees": [{"phoneNumber": "+12065550100"}], "messageType": "confirmation"},
        headers=user_token(runtime, osei, "OnlineMeetings.ReadWrite"),
    )
    assert refused.status_code == 403


def test_an_appointments_meeting_texts_in_its_language_from_its_business(client, auth, runtime):
    clinic = make_clinic(runtime)
    ann = make_user(runtime, "ann@example.test", "Dr. Ann")
    service = make_service(
        runtime,
        clinic["business"],
        "Videosprechstunde",
        is_location_online=True,
        language_tag="de-DE",
        staff_member_ids=[clinic["ann"]],
    )
    booked = client.post(
        f"{BUSINESSES}/{clinic['business']}/appointments",
        json={"serviceId": service, "startDateTime": {"dateTime": START, "timeZone": "UTC"}},
        headers=auth,
    )
    assert booked.status_code == 201, booked.text
    meeting_id = booked.json()["joinWebUrl"].rsplit("/", 1)[1]
    before = {row.id for row in rows(runtime)}

    sent = client.post(
        f"{ME}/{meeting_id}/sendVirtualAppointmentSms",
        json={"attendees": [{"phoneNumber": "+12065550100"}], "messageType": "reschedule"},
        headers=user_token(runtime, ann),
    )

    assert sent.status_code == 202, sent.text
    [row] = [row for row in rows(runtime) if row.id not in before]
    assert (row.appointment_id, row.business_id, row.language) == (
        booked.json()["id"],
        clinic["business"],
        "de",
    )
    transport = Recording()
    asyncio.run(dispatcher(runtime.db, runtime.clock, transport).run_once())
    [text] = [m for m in transport.messages if isinstance(m, TextMessage)]
    assert text.body.startswith("Contoso Health: Ihr Videotermin wurde auf")
    assert text.body.rsplit("\n", 1)[1] == booked.json()["anonymousJoinWebUrl"]
    log = client.get(
        f"{BUSINESSES}/{clinic['business']}/appointments/{booked.json()['id']}"
        "/openvisit.notifications",
        headers=auth,
    ).json()
    assert "meetingRescheduled" in {item["kind"] for item in log["value"]}
