"""The waiting room's numbers, read from the database: who waits for whom, and for how long.

A provider's queue is the consumers and guests present now (an open lobby stretch) in
the lobby of a meeting of that staff member's appointments of the day, in the staff
member's time zone (their own, else the business's). meetings/queue.py orders it and
estimates; this module gathers its inputs in a few queries per queue, so one change
reaches five thousand waiters with one read, not five thousand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from openvisit.clock import Clock
from openvisit.meetings import queue
from openvisit.store.db import Database
from openvisit.store.models import (
    Appointment,
    Business,
    MeetingAttendance,
    MeetingParticipant,
    MeetingSession,
    OnlineMeeting,
    StaffHold,
    StaffMember,
)

BOOKED = "booked"


@dataclass(frozen=True, slots=True)
class Lobby:
    """What one waiter's page shows: the `lobby` frame's fields."""

    position: int
    estimated_wait_seconds: int  # to the minute the page shows (see shown_wait)
    provider: Mapping[str, Any]

    def frame_fields(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "estimatedWaitSeconds": self.estimated_wait_seconds,
            "provider": dict(self.provider),
        }


def shown_wait(seconds: int) -> int:
    """An estimate as precise as the waiting room shows it: 0 under a minute, else whole
    minutes (rounded half up, as the page's Math.round). A waiter's frame is sent when
    what they see changes, so estimates that drift by seconds must not count as news."""
    if seconds < 60:
        return 0
    return (seconds + 30) // 60 * 60


@dataclass(frozen=True, slots=True)
class _Meeting:
    id: str
    start: datetime
    end: datetime
    service_id: str | None
    provider: dict[str, Any]


def staff_day(
    session: Session, staff_member_id: str, now: datetime
) -> tuple[datetime, datetime, str]:
    """The UTC bounds of the staff member's local day around `now`, and their zone name."""
    zone_name = session.execute(
        select(StaffMember.time_zone, Business.booking_page_settings)
        .join(Business, Business.id == StaffMember.business_id)
        .where(StaffMember.id == staff_member_id)
    ).first()
    name = "UTC"
    if zone_name is not None:
        own, settings = zone_name
        name = own or str((settings or {}).get("businessTimeZone") or "UTC")
    zone = zone_of(name)
    local_day = now.astimezone(zone).date()
    start = datetime.combine(local_day, time(0), zone).astimezone(UTC)
    end = datetime.combine(local_day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end, name


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # a zone this system does not know: the day in UTC
        return ZoneInfo("UTC")


def queue_of(db: Database, clock: Clock, staff_member_id: str) -> dict[str, Lobby]:
    """Every waiter in the staff member's queue today, by participant id."""
    now = clock.now()
    with db.read() as session:
        day_start, day_end, _zone_name = staff_day(session, staff_member_id, now)
        meeting_ids = session.scalars(
            select(OnlineMeeting.id)
            .join(StaffHold, StaffHold.appointment_id == OnlineMeeting.appointment_id)
            .join(Appointment, Appointment.id == OnlineMeeting.appointment_id)
            .where(
                StaffHold.staff_id == staff_member_id,
                Appointment.start_date_time >= day_start,
                Appointment.start_date_time < day_end,
                Appointment.status == BOOKED,
            )
        ).all()
        return _lobbies(session, meeting_ids, now, staff_member_id)


def queue_of_meeting(db: Database, clock: Clock, meeting_id: str) -> dict[str, Lobby]:
    """The waiters of a meeting with no staff member's queue (made by an organiser)."""
    with db.read() as session:
        return _lobbies(session, [meeting_id], clock.now(), None)


def _lobbies(
    session: Session, meeting_ids: Iterable[str], now: datetime, staff_member_id: str | None
) -> dict[str, Lobby]:
    meetings = _meetings(session, list(meeting_ids))
    if not meetings:
        return {}
    expected = _expected_lengths(session, meetings.values(), staff_member_id)
    waiters = [
        queue.Waiter(pid, mid, meetings[mid].start, entered, expected[mid])
        for pid, mid, entered in _waiting_rows(session, list(meetings))
    ]
    in_progress, call_meeting = _in_progress(session, meetings, expected)
    # Running late is the provider's, whichever of their meetings it was set on.
    late = max((m.provider.get("lateMinutes") or 0 for m in meetings.values()), default=0)
    places = queue.places(waiters, now=now, in_progress=in_progress, late_minutes=late)
    result: dict[str, Lobby] = {}
    for waiter in waiters:
        place = places[waiter.participant_id]
        provider = dict(meetings[waiter.meeting_id].provider)
        if provider["state"] == "ready" and call_meeting not in (None, waiter.meeting_id):
            provider["state"] = "inCall"
        result[waiter.participant_id] = Lobby(
            place.position, shown_wait(place.estimated_wait_seconds), provider
        )
    return result


def _meetings(session: Session, meeting_ids: list[str]) -> dict[str, _Meeting]:
    rows = session.execute(
        select(OnlineMeeting, Appointment.service_id)
        .outerjoin(Appointment, Appointment.id == OnlineMeeting.appointment_id)
        .where(OnlineMeeting.id.in_(meeting_ids), OnlineMeeting.status == "scheduled")
    ).all()
    return {
        meeting.id: _Meeting(
            meeting.id,
            meeting.start_date_time,
            meeting.end_date_time,
            service_id,
            provider_status(meeting),
        )
        for meeting, service_id in rows
    }


def provider_status(meeting: OnlineMeeting) -> dict[str, Any]:
    return {
        "state": meeting.provider_state,
        "lateMinutes": meeting.provider_late_minutes,
        "message": meeting.provider_message,
    }


def _waiting_rows(session: Session, meeting_ids: list[str]) -> list[tuple[str, str, datetime]]:
    present = exists().where(
        MeetingAttendance.participant_id == MeetingParticipant.id,
        MeetingAttendance.kind == "lobby",
        MeetingAttendance.ended_at.is_(None),
    )
    rows = session.execute(
        select(
            MeetingParticipant.id,
            MeetingParticipant.meeting_id,
            MeetingParticipant.lobby_entered_at,
        ).where(
            MeetingParticipant.meeting_id.in_(meeting_ids),
            MeetingParticipant.state == "lobby",
            MeetingParticipant.role != "provider",
            present,
        )
    ).all()
    return [(pid, mid, entered) for pid, mid, entered in rows if entered is not None]


def _expected_lengths(
    session: Session, meetings: Iterable[_Meeting], staff_member_id: str | None
) -> dict[str, timedelta]:
    recent_by_service: dict[str | None, list[timedelta]] = {}
    result = {}
    for meeting in meetings:
        if meeting.service_id not in recent_by_service:
            recent_by_service[meeting.service_id] = recent_call_lengths(
                session, meeting.service_id, staff_member_id
            )
        result[meeting.id] = queue.expected_length(
            recent_by_service[meeting.service_id], meeting.end - meeting.start
        )
    return result


def recent_call_lengths(
    session: Session, service_id: str | None, staff_member_id: str | None
) -> list[timedelta]:
    """How long the latest finished calls of this service with this provider took."""
    if service_id is None or staff_member_id is None:
        return []
    rows = session.execute(
        select(MeetingSession.started_at, MeetingSession.ended_at)
        .join(OnlineMeeting, OnlineMeeting.id == MeetingSession.meeting_id)
        .join(Appointment, Appointment.id == OnlineMeeting.appointment_id)
        .join(StaffHold, StaffHold.appointment_id == Appointment.id)
        .where(
            Appointment.service_id == service_id,
            StaffHold.staff_id == staff_member_id,
            MeetingSession.ended_at.is_not(None),
        )
        .order_by(MeetingSession.ended_at.desc())
        .limit(queue.RECENT_CALLS)
    ).all()
    return [ended - started for started, ended in rows if ended is not None]


def _in_progress(
    session: Session, meetings: Mapping[str, _Meeting], expected: Mapping[str, timedelta]
) -> tuple[queue.CallInProgress | None, str | None]:
    """The call the provider is in now, among these meetings (the latest begun)."""
    row = session.execute(
        select(MeetingSession.meeting_id, MeetingSession.started_at)
        .where(MeetingSession.meeting_id.in_(list(meetings)), MeetingSession.ended_at.is_(None))
        .where(
            # A provider alone in their call waits too: a call is someone with them.
            exists().where(
                MeetingAttendance.session_id == MeetingSession.id,
                MeetingAttendance.ended_at.is_(None),
                MeetingParticipant.id == MeetingAttendance.participant_id,
                MeetingParticipant.role != "provider",
            )
        )
        .order_by(MeetingSession.started_at.desc())
    ).first()
    if row is None:
        return None, None
    meeting_id, started_at = row
    return queue.CallInProgress(started_at, expected[meeting_id]), meeting_id
