"""Staff members: who delivers services, with their own hours and time zone."""

from __future__ import annotations

from openvisit.audit import actions
from openvisit.bookings.records import ResourceKind
from openvisit.bookings.services import forget_staff_member
from openvisit.bookings.views import StaffMemberView
from openvisit.store.models import StaffMember

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
)
