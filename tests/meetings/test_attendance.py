"""attendanceReports and attendanceRecords from the session and attendance rows the
real-time server writes (inserted here as its model docstrings describe them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from openvisit.meetings import online_meetings
from openvisit.meetings.online_meetings import MeetingChanges
from openvisit.runtime import Runtime
from openvisit.store.models import MeetingAttendance, MeetingParticipant, MeetingSession
from tests.conftest import TEST_NOW
from tests.meetings.helpers import make_user, user_token

AT = TEST_NOW


def seconds(value: int) -> datetime:
    return AT + timedelta(seconds=value)


def seed(runtime: Runtime, organizer_id: str) -> tuple[str, str]:
    meeting = online_meetings.create_meeting(
        runtime.db, runtime.clock, organizer_id, MeetingChanges(subject="Visit"), actor="test"
    )
    with runtime.db.write() as session:
        provider = MeetingParticipant(
            id="p-provider",
            meeting_id=meeting.id,
            participant_key=f"staff:{organizer_id}",
            role="provider",
            display_name="Dr. Osei",
            email_address="osei@example.test",
            staff_user_id=organizer_id,
            state="admitted",
        )
        consumer = MeetingParticipant(
            id="p-consumer",
            meeting_id=meeting.id,
            participant_key="consumer",
            role="consumer",
            display_name="Jordan Lee",
            email_address=None,
            state="admitted",
        )
        sitting = MeetingSession(id="s1", meeting_id=meeting.id, started_at=seconds(0))
        session.add_all([provider, consumer, sitting])
        session.flush()
        rows = [
            ("p-consumer", None, "lobby", 0 - 300, 0),  # the wait: not attendance
            ("p-provider", "s1", "call", 0, 1200),
            ("p-consumer", "s1", "call", 0, 400),
            ("p-consumer", "s1", "call", 460, None),  # reconnected, still there
        ]
        for index, (participant, session_id, kind, start, end) in enumerate(rows):
            session.add(
                MeetingAttendance(
                    meeting_id=meeting.id,
                    participant_id=participant,
                    session_id=session_id,
                    kind=kind,
                    connection_id=f"c{index}",
                    started_at=seconds(start),
                    ended_at=seconds(end) if end is not None else None,
                )
            )
    return meeting.id, "s1"


def test_reports_and_records_in_graphs_shape(client, runtime, clock):
    osei = make_user(runtime)
    meeting_id, report_id = seed(runtime, osei.id)
    clock.advance(timedelta(seconds=1500))
    headers = user_token(runtime, osei)
    base = f"/v1.0/me/onlineMeetings/{meeting_id}/attendanceReports"

    reports = client.get(base, headers=headers).json()
    assert reports["value"] == [
        {
            "id": report_id,
            "totalParticipantCount": 2,
            "meetingStartDateTime": "2026-11-23T14:00:00Z",
            "meetingEndDateTime": None,
        }
    ]
    records = client.get(f"{base}/{report_id}/attendanceRecords", headers=headers).json()
    by_role = {record["role"]: record for record in records["value"]}
    assert set(by_role) == {"Organizer", "Attendee"}
    assert by_role["Organizer"]["identity"] == {"id": osei.id, "displayName": "Dr. Osei"}
    assert by_role["Organizer"]["emailAddress"] == "osei@example.test"
    assert by_role["Organizer"]["totalAttendanceInSeconds"] == 1200
    attendee = by_role["Attendee"]
    now_seconds = 1500
    assert attendee["attendanceIntervals"] == [
        {
            "joinDateTime": "2026-11-23T14:00:00Z",
            "leaveDateTime": "2026-11-23T14:06:40Z",
            "durationInSeconds": 400,
        },
        {
            "joinDateTime": "2026-11-23T14:07:40Z",
            "leaveDateTime": None,
            "durationInSeconds": now_seconds - 460,
        },
    ]
    assert attendee["totalAttendanceInSeconds"] == 400 + now_seconds - 460
    expanded = client.get(
        f"{base}/{report_id}", params={"$expand": "attendanceRecords"}, headers=headers
    ).json()
    assert len(expanded["attendanceRecords"]) == 2
    missing = client.get(f"{base}/nope", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["innerError"]["code"] == "attendanceReportNotFound"


def test_attendance_needs_the_artifact_scope(client, runtime):
    osei = make_user(runtime)
    meeting_id, _ = seed(runtime, osei.id)
    headers = user_token(runtime, osei, "OnlineMeetings.ReadWrite")
    refused = client.get(f"/v1.0/me/onlineMeetings/{meeting_id}/attendanceReports", headers=headers)
    assert refused.status_code == 403
    assert "OnlineMeetingArtifact.Read.All" in refused.json()["error"]["message"]
