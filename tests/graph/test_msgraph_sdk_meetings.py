"""msgraph-sdk drives online meetings on OpenVisit: create, get, createOrGet (made, then
found), getVirtualAppointmentJoinWebUrl, through /me and /users/{id}."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from msgraph.generated.models.attendee_notification_info import AttendeeNotificationInfo
from msgraph.generated.models.lobby_bypass_scope import LobbyBypassScope
from msgraph.generated.models.lobby_bypass_settings import LobbyBypassSettings
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.online_meeting import OnlineMeeting
from msgraph.generated.models.remind_before_time_in_minutes_type import (
    RemindBeforeTimeInMinutesType,
)
from msgraph.generated.models.virtual_appointment_message_type import (
    VirtualAppointmentMessageType,
)
from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (  # noqa: E501
    CreateOrGetPostRequestBody,
)
from msgraph.generated.users.item.online_meetings.item.send_virtual_appointment_reminder_sms.send_virtual_appointment_reminder_sms_post_request_body import (  # noqa: E501
    SendVirtualAppointmentReminderSmsPostRequestBody,
)
from msgraph.generated.users.item.online_meetings.item.send_virtual_appointment_sms.send_virtual_appointment_sms_post_request_body import (  # noqa: E501
    SendVirtualAppointmentSmsPostRequestBody,
)
from msgraph.graph_service_client import GraphServiceClient
from sqlalchemy import select

from openvisit.auth.tokens import create_token
from openvisit.join_links import read_join_token
from openvisit.store.models import Notification
from tests.conftest import TEST_NOW, TEST_SECRET
from tests.graph.sdk_client import native_response, present, raw, run_with_client
from tests.live import serve
from tests.meetings.helpers import MEETINGS_SCOPES, make_user
from tests.meetings.test_attendance import seed

pytestmark = pytest.mark.live
START = datetime.datetime(2026, 11, 24, 15, 0, tzinfo=datetime.UTC)


def test_msgraph_sdk_creates_gets_and_joins(app, runtime):
    osei = make_user(runtime)
    _info, token = create_token(
        runtime.db, runtime.clock, name="sdk", scopes=MEETINGS_SCOPES, user_email=osei.email
    )

    async def scenario(client: GraphServiceClient) -> dict[str, Any]:
        made = present(
            await client.me.online_meetings.post(
                OnlineMeeting(
                    subject="Check-up",
                    start_date_time=START,
                    end_date_time=START + datetime.timedelta(minutes=30),
                    lobby_bypass_settings=LobbyBypassSettings(scope=LobbyBypassScope.Organizer),
                )
            )
        )
        item = client.me.online_meetings.by_online_meeting_id(present(made.id))
        read = present(await item.get())
        body = CreateOrGetPostRequestBody(
            external_id="crm-9", subject="Intake", start_date_time=START
        )
        first = await raw(client.me.online_meetings.create_or_get.post(body, native_response()))
        second = present(await client.me.online_meetings.create_or_get.post(body))
        joined = present(await item.get_virtual_appointment_join_web_url.get())
        by_user = present(
            await client.users.by_user_id(osei.id)
            .online_meetings.by_online_meeting_id(present(made.id))
            .get()
        )
        with pytest.raises(ODataError) as missing:
            await client.me.online_meetings.by_online_meeting_id("nope").get()
        return {
            "made": made,
            "read": read,
            "first": first,
            "second": second,
            "joined": joined,
            "by_user": by_user,
            "missing": missing.value,
        }

    with serve(app) as base_url:
        found = run_with_client(base_url, token, scenario)

    made, read = found["made"], found["read"]
    assert read.id == made.id and read.subject == "Check-up"
    assert read.start_date_time == START
    assert read.end_date_time == START + datetime.timedelta(minutes=30)
    assert read.join_web_url.endswith(f"/visits/{made.id}")
    assert read.lobby_bypass_settings.scope == LobbyBypassScope.Organizer
    assert read.participants.organizer.upn == "osei@example.test"
    assert found["first"].status_code == 201
    assert found["second"].external_id == "crm-9"
    assert found["second"].id == found["first"].json()["id"]
    url = present(found["joined"].value)
    claim = read_join_token(TEST_SECRET, url.rsplit("/", 1)[1], now=TEST_NOW)
    assert (claim.meeting_id, claim.role) == (made.id, "consumer")
    assert found["by_user"].id == made.id
    assert found["missing"].response_status_code == 404


def test_msgraph_sdk_texts_attendees_and_reads_attendance(app, runtime, clock):
    osei = make_user(runtime)
    meeting_id, report_id = seed(runtime, osei.id)
    clock.advance(datetime.timedelta(seconds=1500))
    _info, token = create_token(
        runtime.db, runtime.clock, name="sdk", scopes=MEETINGS_SCOPES, user_email=osei.email
    )

    async def scenario(client: GraphServiceClient) -> dict[str, Any]:
        item = client.me.online_meetings.by_online_meeting_id(meeting_id)
        texted = await raw(
            item.send_virtual_appointment_sms.post(
                SendVirtualAppointmentSmsPostRequestBody(
                    attendees=[
                        AttendeeNotificationInfo(
                            phone_number="+12065550100", time_zone="Pacific Standard Time"
                        )
                    ],
                    message_type=VirtualAppointmentMessageType.Confirmation,
                ),
                native_response(),
            )
        )
        await item.send_virtual_appointment_reminder_sms.post(
            SendVirtualAppointmentReminderSmsPostRequestBody(
                attendees=[AttendeeNotificationInfo(phone_number="+12065550100")],
                remind_before_time_in_minutes_type=RemindBeforeTimeInMinutesType.Mins15,
            )
        )
        reports = present(await item.attendance_reports.get())
        records = present(
            await item.attendance_reports.by_meeting_attendance_report_id(
                report_id
            ).attendance_records.get()
        )
        return {"texted": texted, "reports": reports, "records": records}

    with serve(app) as base_url:
        found = run_with_client(base_url, token, scenario)

    assert found["texted"].status_code == 202
    with runtime.db.read() as session:
        kinds = sorted(session.scalars(select(Notification.kind)))
    assert kinds == ["meetingConfirmation", "meetingReminder"]
    [report] = present(found["reports"].value)
    assert (report.id, report.total_participant_count) == (report_id, 2)
    assert report.meeting_start_date_time == TEST_NOW
    records = {record.role: record for record in present(found["records"].value)}
    organizer = records["Organizer"]
    assert (organizer.identity.id, organizer.identity.display_name) == (osei.id, "Dr. Osei")
    assert organizer.total_attendance_in_seconds == 1200
    [interval] = present(organizer.attendance_intervals)
    assert interval.join_date_time == TEST_NOW
    assert interval.leave_date_time == TEST_NOW + datetime.timedelta(seconds=1200)
    assert len(present(records["Attendee"].attendance_intervals)) == 2
