"""Attendance, read side: a meeting's sittings as Graph's attendance reports.

Computed from the rows the real-time server writes (store/models.py): one
`MeetingSession` is one meetingAttendanceReport; each participant's `MeetingAttendance`
stretches of kind `call` in it are one attendanceRecord's attendanceIntervals. Lobby
stretches are not attendance in Graph's sense (nobody was in the meeting yet) and are
left out. A stretch still open counts up to `now` and has no leave time yet.

Roles as Graph names them: the meeting's organizer is `Organizer`, other staff
`Presenter`, consumers and guests `Attendee`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvisit.errors import NotFound
from openvisit.meetings.online_meetings import owned
from openvisit.meetings.views import (
    AttendanceInterval,
    AttendanceRecord,
    AttendanceReport,
)
from openvisit.store.db import Database
from openvisit.store.models import (
    MeetingAttendance,
    MeetingParticipant,
    MeetingSession,
    OnlineMeeting,
)

CALL = "call"


def list_reports(
    db: Database, user_id: str, meeting_id: str, *, now: datetime
) -> tuple[AttendanceReport, ...]:
    """Every sitting of the meeting's call, oldest first, with its records."""
    with db.read() as session:
        meeting = owned(session, user_id, meeting_id)
        sittings = session.scalars(
            select(MeetingSession)
            .where(MeetingSession.meeting_id == meeting.id)
            .order_by(MeetingSession.started_at, MeetingSession.id)
        ).all()
        return tuple(_report(session, meeting, sitting, now) for sitting in sittings)


def get_report(
    db: Database, user_id: str, meeting_id: str, report_id: str, *, now: datetime
) -> AttendanceReport:
    with db.read() as session:
        meeting = owned(session, user_id, meeting_id)
        sitting = None if "\x00" in report_id else session.get(MeetingSession, report_id)
        if sitting is None or sitting.meeting_id != meeting.id:
            raise NotFound("attendanceReportNotFound", report=report_id)
        return _report(session, meeting, sitting, now)


def _report(
    session: Session, meeting: OnlineMeeting, sitting: MeetingSession, now: datetime
) -> AttendanceReport:
    rows = session.execute(
        select(MeetingAttendance, MeetingParticipant)
        .join(MeetingParticipant, MeetingParticipant.id == MeetingAttendance.participant_id)
        .where(MeetingAttendance.session_id == sitting.id, MeetingAttendance.kind == CALL)
        .order_by(MeetingAttendance.started_at, MeetingAttendance.id)
    ).all()
    stretches: dict[str, list[MeetingAttendance]] = defaultdict(list)
    people: dict[str, MeetingParticipant] = {}
    for stretch, participant in rows:
        stretches[participant.id].append(stretch)
        people[participant.id] = participant
    records = tuple(_record(meeting, people[key], stretches[key], now) for key in stretches)
    return AttendanceReport(
        id=sitting.id,
        total_participant_count=len(records),
        start=sitting.started_at,
        end=sitting.ended_at,
        records=records,
    )


def _record(
    meeting: OnlineMeeting,
    participant: MeetingParticipant,
    stretches: list[MeetingAttendance],
    now: datetime,
) -> AttendanceRecord:
    intervals = tuple(
        AttendanceInterval(
            join=stretch.started_at,
            leave=stretch.ended_at,
            seconds=max(0, int(((stretch.ended_at or now) - stretch.started_at).total_seconds())),
        )
        for stretch in stretches
    )
    return AttendanceRecord(
        id=participant.id,
        email_address=participant.email_address,
        identity_id=participant.staff_user_id or participant.id,
        display_name=participant.display_name,
        role=_role(meeting, participant),
        total_seconds=sum(interval.seconds for interval in intervals),
        intervals=intervals,
    )


def _role(meeting: OnlineMeeting, participant: MeetingParticipant) -> str:
    if participant.role == "provider":
        if participant.staff_user_id and participant.staff_user_id == meeting.organizer_user_id:
            return "Organizer"
        return "Presenter"
    return "Attendee"
