"""Staff members: who delivers services, with their own hours and time zone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from openvisit.audit import actions
from openvisit.bookings.records import Changes, ResourceKind
from openvisit.bookings.services import forget_staff_member
from openvisit.bookings.views import StaffMemberView
from openvisit.meetings import appointment_meetings
from openvisit.store.models import StaffMember


def _follow_email(
    session: Session, member: StaffMember, changes: Changes, actor: str, now: datetime
) -> None:
    """A provider given the e-mail of a staff user (a typo fixed, say): that user now
    organises the meetings of their appointments that had no organizer."""
    if "email_address" in changes and member.email_address:
        appointment_meetings.adopt_for_email(session, member.email_address, actor=actor, now=now)


STAFF_MEMBERS = ResourceKind(
    model=StaffMember,
    view=StaffMemberView,
    label="staff member",
    actions=actions.STAFF_MEMBER,
    columns={
        "id": StaffMember.id,
        "displayName": StaffMember.display_name,
        "emailAddress": StaffMember.email_address,
        "role": StaffMember.role,
        "timeZone": StaffMember.time_zone,
        "useBusinessHours": StaffMember.use_business_hours,
        "membershipStatus": StaffMember.membership_status,
        "isEmailNotificationEnabled": StaffMember.is_email_notification_enabled,
        "createdDateTime": StaffMember.created_date_time,
        "lastUpdatedDateTime": StaffMember.last_updated_date_time,
    },
    on_delete=forget_staff_member,
    on_update=_follow_email,
)
