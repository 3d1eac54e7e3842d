"""The meeting of an online bookingAppointment, kept in step inside the booking's
transaction (bookings/appointments/ calls these; bookings sits above meetings).

An appointment is online when its `isLocationOnline` is true: sent with it, or taken
from its service when booked. Such an appointment has one meeting from the moment it is
booked, organised by the staff user whose e-mail is its first provider's (so it is on
their `/me/onlineMeetings`), titled with the service's name, at the appointment's times.

- moved or re-staffed: the meeting follows (its links then expire with the new end);
- made not online: the meeting is cancelled; made online again: it opens again;
- cancelled: the meeting is cancelled and its `link_version` raised, so every join link
  handed out is refused from then on;
- deleted: the meeting goes with it (participants, attendance, chat);
- its provider's staff user created only later, or its provider given the e-mail of a
  user: the meeting is theirs from then on (`adopt_for_email`, in that transaction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openvisit import audit
from openvisit.audit.actions import Action
from openvisit.meetings.online_meetings import DEFAULT_PROPERTIES, new_meeting_id
from openvisit.meetings.views import CANCELLED, SCHEDULED
from openvisit.store.locking import lock_email, lock_staff_time
from openvisit.store.models import Appointment, OnlineMeeting, StaffMember, StaffUser


def is_online(details: Mapping[str, Any]) -> bool:
    return details.get("isLocationOnline") is True


def booked_rows(
    session: Session,
    appointment: Mapping[str, Any],
    staff_emails: Sequence[str | None],
    *,
    actor: str,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(meeting rows, audit rows) to insert with a new booking: one meeting if online."""
    if not is_online(appointment["details"]):
        return [], []
    row = {
        "id": new_meeting_id(),
        "organizer_user_id": organizer_for(session, staff_emails),
        "business_id": appointment["business_id"],
        "appointment_id": appointment["id"],
        "external_id": None,
        "subject": appointment["display_name"],
        "start_date_time": appointment["start_date_time"],
        "end_date_time": appointment["end_date_time"],
        "created_date_time": now,
        "properties": dict(DEFAULT_PROPERTIES),
        "virtual_appointment": None,
        "link_version": 0,
        "status": SCHEDULED,
        "provider_state": "ready",
        "provider_late_minutes": None,
        "provider_message": None,
    }
    audit_row = audit.row(
        Action.MEETING_CREATED,
        actor=actor,
        subject=row["id"],
        at=now,
        data={"appointmentId": appointment["id"], "organizer": row["organizer_user_id"]},
    )
    return [row], [audit_row]


def follow_appointment(
    session: Session,
    appointment: Appointment,
    staff_emails: Sequence[str | None],
    *,
    actor: str,
    now: datetime,
) -> None:
    """After a move or an edit: the meeting has the appointment's times, organizer and
    subject, exists while it is online and is cancelled while it is not."""
    meeting = meeting_of(session, appointment.id)
    online = is_online(appointment.details)
    if meeting is None:
        if online:
            values = _values(appointment)
            rows, audit_rows = booked_rows(session, values, staff_emails, actor=actor, now=now)
            session.add(OnlineMeeting(**rows[0]))
            audit.add(session, audit_rows)
        return
    if not online:
        _cancel(session, meeting, actor=actor, now=now, reason="notOnline")
        return
    wanted = {
        "start_date_time": appointment.start_date_time,
        "end_date_time": appointment.end_date_time,
        "subject": appointment.display_name,
        "organizer_user_id": organizer_for(session, staff_emails),
        "status": SCHEDULED,
    }
    changed = sorted(name for name, value in wanted.items() if getattr(meeting, name) != value)
    if not changed:
        return
    for name in changed:
        setattr(meeting, name, wanted[name])
    _record_update(session, meeting, changed, actor=actor, now=now)


def cancel_for_appointment(
    session: Session, appointment_id: str, *, actor: str, now: datetime
) -> None:
    """The appointment is cancelled: so is its meeting, and its links stop working."""
    meeting = meeting_of(session, appointment_id)
    if meeting is not None:
        _cancel(session, meeting, actor=actor, now=now, reason="appointmentCancelled")


def delete_for_appointment(
    session: Session, appointment_id: str, *, actor: str, now: datetime
) -> None:
    """The appointment is deleted: its meeting goes too (the database cascades the rest)."""
    meeting_id = session.scalar(
        select(OnlineMeeting.id).where(OnlineMeeting.appointment_id == appointment_id)
    )
    if meeting_id is None:
        return
    session.execute(delete(OnlineMeeting).where(OnlineMeeting.id == meeting_id))
    audit.record(
        session,
        Action.MEETING_DELETED,
        actor=actor,
        subject=meeting_id,
        at=now,
        data={"appointmentId": appointment_id},
    )


def meeting_of(session: Session, appointment_id: str) -> OnlineMeeting | None:
    return session.scalar(
        select(OnlineMeeting).where(OnlineMeeting.appointment_id == appointment_id)
    )


def organizer_for(session: Session, staff_emails: Sequence[str | None]) -> str | None:
    """The active staff user who is the first of these providers, if any signs in."""
    emails = _lowered(staff_emails)
    return _first_user(_active_users(session, emails), emails)


def adopt_for_email(session: Session, email: str, *, actor: str, now: datetime) -> int:
    """A staff user with `email` was just added in this transaction, or a staff member was
    just given it: the meetings of appointments staffed by a member with that e-mail that
    have no organizer get the one `organizer_for` names now. An organizer already set
    stays. Returns how many.

    Why here and in that transaction, not at read time: `organizer_user_id` is what
    /me/onlineMeetings, the visit's access check, attendance and the texts all read, so it
    stays the one answer. Why it misses nothing on PostgreSQL (READ COMMITTED, where a
    statement after a lock wait sees what the other transaction committed):
    - a booking or a re-staffing locks its staff members' time (store/locking.py) before
      it calls `organizer_for`, and this locks the time of every member with the e-mail
      before it looks for meetings: the booking sees the new user, or this its meeting;
    - the user's creation and a member's change of e-mail both lock the e-mail first, so
      the second finds the member the first gave it, or the user the first created.
    On SQLite write transactions are serialized already.
    """
    lock_email(session, email)
    members = session.execute(
        select(StaffMember.id, StaffMember.business_id).where(
            func.lower(StaffMember.email_address) == email.lower()
        )
    ).all()
    if not members:
        return 0
    member_ids = {str(member_id) for member_id, _business in members}
    lock_staff_time(session, member_ids)
    rows = session.execute(
        select(OnlineMeeting, Appointment.staff_member_ids)
        .join(Appointment, Appointment.id == OnlineMeeting.appointment_id)
        .where(
            OnlineMeeting.organizer_user_id.is_(None),
            OnlineMeeting.business_id.in_({str(business) for _id, business in members}),
        )
    ).all()
    staffed = [(meeting, list(staff)) for meeting, staff in rows if member_ids & set(staff)]
    if not staffed:
        return 0
    emails_of: dict[str, str | None] = dict(
        session.execute(
            select(StaffMember.id, StaffMember.email_address).where(
                StaffMember.id.in_({staff_id for _m, staff in staffed for staff_id in staff})
            )
        ).all()
    )
    users = _active_users(
        session, _lowered([emails_of.get(staff_id) for _m, staff in staffed for staff_id in staff])
    )
    adopted = 0
    for meeting, staff in staffed:
        organizer = _first_user(users, _lowered([emails_of.get(staff_id) for staff_id in staff]))
        if organizer is None:
            continue
        meeting.organizer_user_id = organizer
        adopted += 1
        _record_update(session, meeting, ["organizer_user_id"], actor=actor, now=now)
    return adopted


def _lowered(emails: Sequence[str | None]) -> list[str]:
    return [email.lower() for email in emails if email]


def _active_users(session: Session, emails: Sequence[str]) -> dict[str, str]:
    """Active staff users' ids by lowercased e-mail, among `emails`."""
    if not emails:
        return {}
    rows = session.execute(
        select(StaffUser.id, StaffUser.email).where(
            func.lower(StaffUser.email).in_(set(emails)), StaffUser.is_active.is_(True)
        )
    ).all()
    return {str(email).lower(): str(user_id) for user_id, email in rows}


def _first_user(by_email: Mapping[str, str], emails: Sequence[str]) -> str | None:
    return next((by_email[email] for email in emails if email in by_email), None)


def _record_update(
    session: Session, meeting: OnlineMeeting, changed: list[str], *, actor: str, now: datetime
) -> None:
    audit.record(
        session,
        Action.MEETING_UPDATED,
        actor=actor,
        subject=meeting.id,
        at=now,
        data={"appointmentId": meeting.appointment_id, "changed": changed},
    )


def _cancel(
    session: Session, meeting: OnlineMeeting, *, actor: str, now: datetime, reason: str
) -> None:
    if meeting.status == CANCELLED:
        return
    meeting.status = CANCELLED
    meeting.link_version += 1
    audit.record(
        session,
        Action.MEETING_CANCELLED,
        actor=actor,
        subject=meeting.id,
        at=now,
        data={"appointmentId": meeting.appointment_id, "reason": reason},
    )


def _values(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "business_id": appointment.business_id,
        "display_name": appointment.display_name,
        "start_date_time": appointment.start_date_time,
        "end_date_time": appointment.end_date_time,
        "details": appointment.details,
    }
