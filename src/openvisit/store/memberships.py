"""Which businesses a staff user belongs to: Bookings grants access through staff members.

A user is a member of a business when one of its bookingStaffMembers carries the user's
e-mail address (compared case-insensitively) and is active. Only the roles below open a
business; `guest` (Bookings: "can be assigned to bookings but can't open the booking
mailbox") and roles this server does not know open nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, bindparam, func, select

from openvisit.store.models import StaffMember

# The bookingStaffRole values that give access to a business, most powerful first.
ACCESS_ROLES = ("administrator", "scheduler", "teamMember", "viewer", "externalGuest")
ACTIVE_MEMBERSHIP = "active"


def _member(email: object) -> tuple[ColumnElement[bool], ...]:
    return (
        func.lower(StaffMember.email_address) == email,
        StaffMember.membership_status == ACTIVE_MEMBERSHIP,
        StaffMember.role.in_(ACCESS_ROLES),
    )


# The hot path's one extra read for a token that acts for a user: built once, bound
# parameters, served by the index on staff_members.business_id.
MEMBERSHIP: Select[str, str] = select(StaffMember.id, StaffMember.role).where(
    StaffMember.business_id == bindparam("business_id"), *_member(bindparam("email"))
)


def member_business_ids(email: str) -> Select[str]:
    """The ids of the businesses where `email` (lowercased) is an active member."""
    return select(StaffMember.business_id).where(*_member(email))
