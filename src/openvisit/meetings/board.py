"""The provider's day board: today's online appointments of the signed-in staff user.

Their staff members are the business staff records with their e-mail address (one per
business they work for); "today" is the local day of the first of them, in its own time
zone, else the business's. Each appointment's status comes from the meeting's rows:

- `cancelled`: the appointment or its meeting was cancelled;
- `inCall`: the consumer or a guest is in the call now;
- `waiting`: the consumer or a guest waits in the lobby now (with `waitedSeconds`);
- `done`: the visit was ended, or a call of it took place and nobody is in it;
- `noShow`: NO_SHOW_GRACE past the start and the consumer never came;
- `upcoming`: anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openvisit.auth.users import UserView
from openvisit.clock import Clock
from openvisit.join_links import staff_join_url
from openvisit.meetings.snapshots import iso
from openvisit.meetings.waiting import provider_status, staff_day, zone_of
from openvisit.store.db import Database
from openvisit.store.memberships import ACTIVE_MEMBERSHIP
from openvisit.store.models import (
    Appointment,
    MeetingAttendance,
    MeetingParticipant,
    MeetingSession,
    OnlineMeeting,
    StaffMember,
)

NO_SHOW_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Board:
    staff_member_ids: tuple[str, ...]  # whose queues it follows (bus channels)
    meeting_ids: tuple[str, ...]
    view: dict[str, Any]  # the protocol's `board` object


def staff_members_of(session: Session, user: UserView) -> list[tuple[str, str]]:
    """(staff member id, business id) of every active staff record with the user's e-mail."""
    rows = session.execute(
        select(StaffMember.id, StaffMember.business_id)
        .where(
            func.lower(StaffMember.email_address) == user.email.lower(),
            StaffMember.membership_status == ACTIVE_MEMBERSHIP,
        )
        .order_by(StaffMember.business_id, StaffMember.id)
    ).all()
    return [(staff_id, business_id) for staff_id, business_id in rows]


def board_for(db: Database, clock: Clock, user: UserView) -> Board:
    now = clock.now()
    with db.read() as session:
        members = staff_members_of(session, user)
        if not members:
            empty = {"date": now.date().isoformat(), "timeZone": "UTC", "appointments": []}
            return Board((), (), {**empty, "provider": _ready()})
        start, end, zone = staff_day(session, members[0][0], now)
        staff_ids = tuple(staff_id for staff_id, _business in members)
        rows = _appointments(session, [b for _s, b in members], start, end)
        mine = [(a, m) for a, m in rows if set(a.staff_member_ids) & set(staff_ids)]
        items = [_item(session, appointment, meeting, now) for appointment, meeting in mine]
    view = {
        "date": now.astimezone(zone_of(zone)).date().isoformat(),
        "timeZone": zone,
        "appointments": items,
        "provider": _provider(mine, now),
    }
    return Board(staff_ids, tuple(m.id for _a, m in mine), view)


def _appointments(
    session: Session, business_ids: list[str], start: datetime, end: datetime
) -> list[tuple[Appointment, OnlineMeeting]]:
    rows = session.execute(
        select(Appointment, OnlineMeeting)
        .join(OnlineMeeting, OnlineMeeting.appointment_id == Appointment.id)
        .where(
            Appointment.business_id.in_(business_ids),
            Appointment.start_date_time >= start,
            Appointment.start_date_time < end,
        )
        .order_by(Appointment.start_date_time, Appointment.id)
    ).all()
    return [(appointment, meeting) for appointment, meeting in rows]


def _item(
    session: Session, appointment: Appointment, meeting: OnlineMeeting, now: datetime
) -> dict[str, Any]:
    guests = session.scalars(
        select(MeetingParticipant).where(
            MeetingParticipant.meeting_id == meeting.id, MeetingParticipant.role != "provider"
        )
    ).all()
    consumer = next((p for p in guests if p.participant_key == "consumer"), None)
    status, waited = _status(session, appointment, meeting, guests, now)
    customer = (appointment.customers or [{}])[0]
    return {
        "appointmentId": appointment.id,
        "meetingId": meeting.id,
        "start": iso(appointment.start_date_time),
        "end": iso(appointment.end_date_time),
        "serviceName": appointment.display_name,
        "customerName": customer.get("name"),
        "status": status,
        "waitedSeconds": waited,
        "deviceCheck": consumer.device_check if consumer else None,
        "joinUrl": staff_join_url("", meeting.id),
    }


def _status(
    session: Session,
    appointment: Appointment,
    meeting: OnlineMeeting,
    guests: Any,
    now: datetime,
) -> tuple[str, int | None]:
    if appointment.status == "cancelled" or meeting.status == "cancelled":
        return "cancelled", None
    present = dict(
        session.execute(
            select(MeetingAttendance.participant_id, MeetingAttendance.kind).where(
                MeetingAttendance.meeting_id == meeting.id, MeetingAttendance.ended_at.is_(None)
            )
        ).all()
    )
    if any(present.get(g.id) == "call" for g in guests):
        return "inCall", None
    lobby = [g for g in guests if present.get(g.id) == "lobby" and g.state == "lobby"]
    if lobby:
        since = min(g.lobby_entered_at or now for g in lobby)
        return "waiting", max(0, round((now - since).total_seconds()))
    had_call = session.scalar(
        select(func.count())
        .select_from(MeetingSession)
        .where(MeetingSession.meeting_id == meeting.id)
    )
    if meeting.status == "ended" or had_call:
        return "done", None
    came = any(g.lobby_entered_at is not None for g in guests if g.participant_key == "consumer")
    if not came and now > appointment.start_date_time + NO_SHOW_GRACE:
        return "noShow", None
    return "upcoming", None


def _provider(rows: list[tuple[Appointment, OnlineMeeting]], now: datetime) -> dict[str, Any]:
    """The provider's state as the day's next open meeting holds it."""
    open_meetings = [m for a, m in rows if m.status == "scheduled" and a.end_date_time >= now]
    return provider_status(open_meetings[0]) if open_meetings else _ready()


def _ready() -> dict[str, Any]:
    return {"state": "ready", "lateMinutes": None, "message": None}
