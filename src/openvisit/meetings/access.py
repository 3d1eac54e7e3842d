"""Who may enter a meeting: the one check behind every page, WebSocket and media path.

A consumer or guest comes with a join token (join_links.py); it must be genuine and
unexpired, its meeting must exist, not be cancelled, and still be at the link version
the token was signed with. Staff come signed in: a provider on the appointment, a
business administrator or scheduler (the front desk that admits for a clinic), or the
organiser of a meeting made through /me/onlineMeetings. Every refusal is the same
`JoinRefused`, with a reason for the page to word ("expired: ask for a new link") but
nothing that tells a stranger whether a meeting exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select

from openvisit.auth.users import UserView
from openvisit.join_links import read_join_token
from openvisit.link_tokens import InvalidLink
from openvisit.meetings.guest_names import GUEST_LABEL
from openvisit.store.db import Database
from openvisit.store.memberships import ACTIVE_MEMBERSHIP
from openvisit.store.models import (
    Appointment,
    Business,
    MeetingParticipant,
    OnlineMeeting,
    StaffMember,
)

Role = Literal["provider", "consumer", "guest"]
RefusalReason = Literal["invalid", "expired", "revoked", "cancelled", "notYours"]
# Business roles that may run any of the business's visits, besides the providers on it.
FRONT_DESK_ROLES = frozenset({"administrator", "scheduler"})


class JoinRefused(Exception):
    """Not let in. `reason` is for wording the page, never for telling a stranger more."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    """What a page or a welcome frame shows of a meeting, read once at entry."""

    id: str
    subject: str
    start: datetime
    end: datetime
    status: str
    link_version: int
    organizer_user_id: str | None
    business_id: str | None
    business_name: str | None
    booking_page_settings: dict[str, Any]
    business_time_zone: str
    appointment_id: str | None
    staff_member_ids: tuple[str, ...]
    customer_name: str | None
    customer_email: str | None
    customer_time_zone: str | None
    customer_language: str | None


@dataclass(frozen=True, slots=True)
class Entrant:
    """A person let into a meeting, and as whom."""

    meeting: MeetingSummary
    participant_key: str
    role: Role
    display_name: str
    email_address: str | None = None
    staff_user_id: str | None = None


def check_join_link(db: Database, *, secret_key: str, token: str, now: datetime) -> Entrant:
    """The consumer or guest a join token lets in, or JoinRefused."""
    try:
        claim = read_join_token(secret_key, token, now=now)
    except InvalidLink as error:
        raise JoinRefused("expired" if error.expired else "invalid") from error
    meeting = load_meeting(db, claim.meeting_id)
    if meeting is None:
        raise JoinRefused("invalid")
    if meeting.link_version != claim.version:
        raise JoinRefused("revoked")
    if meeting.status == "cancelled":
        raise JoinRefused("cancelled")
    if claim.role == "consumer":
        name = meeting.customer_name or "Guest"
        return Entrant(meeting, claim.participant_key, "consumer", name, meeting.customer_email)
    name = _stored_name(db, meeting.id, claim.participant_key) or GUEST_LABEL
    return Entrant(meeting, claim.participant_key, "guest", name)


def _stored_name(db: Database, meeting_id: str, participant_key: str) -> str | None:
    # A guest's row holds the name staff invited them by, then the one they typed.
    with db.read() as session:
        return session.scalar(
            select(MeetingParticipant.display_name).where(
                MeetingParticipant.meeting_id == meeting_id,
                MeetingParticipant.participant_key == participant_key,
            )
        )


def check_staff_access(db: Database, *, user: UserView, meeting_id: str) -> Entrant:
    """The signed-in staff user as the meeting's provider, or JoinRefused("notYours")."""
    meeting = load_meeting(db, meeting_id)
    if meeting is None or not _may_run(db, user, meeting):
        raise JoinRefused("notYours")
    if meeting.status == "cancelled":
        raise JoinRefused("cancelled")
    return Entrant(
        meeting,
        f"staff:{user.id}",
        "provider",
        user.display_name,
        user.email,
        staff_user_id=user.id,
    )


def load_meeting(db: Database, meeting_id: str) -> MeetingSummary | None:
    if "\x00" in meeting_id:
        return None
    with db.read() as session:
        found = session.execute(
            select(OnlineMeeting, Appointment, Business)
            .outerjoin(Appointment, Appointment.id == OnlineMeeting.appointment_id)
            .outerjoin(Business, Business.id == OnlineMeeting.business_id)
            .where(OnlineMeeting.id == meeting_id)
        ).first()
        if found is None:
            return None
        meeting, appointment, business = found
        return _summary(meeting, appointment, business)


def _summary(
    meeting: OnlineMeeting, appointment: Appointment | None, business: Business | None
) -> MeetingSummary:
    customer = (appointment.customers[0] if appointment and appointment.customers else None) or {}
    settings = dict((business.booking_page_settings if business else None) or {})
    return MeetingSummary(
        id=meeting.id,
        subject=meeting.subject or (appointment.display_name if appointment else "") or "",
        start=meeting.start_date_time,
        end=meeting.end_date_time,
        status=meeting.status,
        link_version=meeting.link_version,
        organizer_user_id=meeting.organizer_user_id,
        business_id=meeting.business_id,
        business_name=business.display_name if business else None,
        booking_page_settings=settings,
        business_time_zone=str(settings.get("businessTimeZone") or "UTC"),
        appointment_id=meeting.appointment_id,
        staff_member_ids=tuple(appointment.staff_member_ids if appointment else ()),
        customer_name=customer.get("name"),
        customer_email=customer.get("emailAddress"),
        customer_time_zone=(
            (appointment.customer_time_zone or customer.get("timeZone")) if appointment else None
        ),
        customer_language=appointment.customer_language if appointment else None,
    )


def _may_run(db: Database, user: UserView, meeting: MeetingSummary) -> bool:
    if meeting.organizer_user_id == user.id:
        return True
    if meeting.business_id is None:
        return False
    with db.read() as session:
        rows = session.execute(
            select(StaffMember.id, StaffMember.role).where(
                StaffMember.business_id == meeting.business_id,
                func.lower(StaffMember.email_address) == user.email.lower(),
                StaffMember.membership_status == ACTIVE_MEMBERSHIP,
            )
        ).all()
    return any(
        staff_id in meeting.staff_member_ids or role in FRONT_DESK_ROLES for staff_id, role in rows
    )
