"""Every action the audit log records, in one table.

The names are stable: rows written years ago carry them, and operators filter on them, so
a name is never renamed or reused (their mixed casing is history). `audit.record` takes
only these members, which is what keeps the table complete; tests/audit/ asserts a row
for each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    # Staff accounts (CLI and admin)
    USER_CREATED = "openvisit.user.created"
    USER_PASSWORD_CHANGED = "openvisit.user.password_changed"
    USER_DISABLED = "openvisit.user.disabled"
    # Browser sign-in sessions
    SESSION_SIGNED_IN = "openvisit.session.signed_in"
    SESSION_SIGNED_OUT = "openvisit.session.signed_out"
    SESSION_SIGN_IN_FAILED = "openvisit.session.sign_in_failed"
    SESSION_SIGN_IN_LOCKED = "openvisit.session.sign_in_locked"
    SESSION_REVOKED = "openvisit.session.revoked"
    # API tokens
    TOKEN_CREATED = "openvisit.token.created"
    TOKEN_REVOKED = "openvisit.token.revoked"
    # Businesses
    BUSINESS_CREATED = "openvisit.business.created"
    BUSINESS_UPDATED = "openvisit.business.updated"
    BUSINESS_DELETED = "openvisit.business.deleted"
    BUSINESS_PUBLISHED = "openvisit.business.published"
    BUSINESS_UNPUBLISHED = "openvisit.business.unpublished"
    # Records inside a business
    SERVICE_CREATED = "openvisit.service.created"
    SERVICE_UPDATED = "openvisit.service.updated"
    SERVICE_DELETED = "openvisit.service.deleted"
    STAFF_MEMBER_CREATED = "openvisit.staffMember.created"
    STAFF_MEMBER_UPDATED = "openvisit.staffMember.updated"
    STAFF_MEMBER_DELETED = "openvisit.staffMember.deleted"
    CUSTOMER_CREATED = "openvisit.customer.created"
    CUSTOMER_UPDATED = "openvisit.customer.updated"
    CUSTOMER_DELETED = "openvisit.customer.deleted"
    CUSTOM_QUESTION_CREATED = "openvisit.customQuestion.created"
    CUSTOM_QUESTION_UPDATED = "openvisit.customQuestion.updated"
    CUSTOM_QUESTION_DELETED = "openvisit.customQuestion.deleted"
    # Staff members' calendar feeds (the secret URL made, replaced, revoked)
    CALENDAR_FEED_CREATED = "openvisit.calendarFeed.created"
    CALENDAR_FEED_ROTATED = "openvisit.calendarFeed.rotated"
    CALENDAR_FEED_REVOKED = "openvisit.calendarFeed.revoked"
    # Appointments
    APPOINTMENT_BOOKED = "openvisit.appointment.booked"
    APPOINTMENT_UPDATED = "openvisit.appointment.updated"
    APPOINTMENT_RESCHEDULED = "openvisit.appointment.rescheduled"
    APPOINTMENT_CANCELLED = "openvisit.appointment.cancelled"
    APPOINTMENT_DELETED = "openvisit.appointment.deleted"
    # A manager booked, moved or cancelled outside the booking rules (one row per change).
    APPOINTMENT_RULES_OVERRIDDEN = "openvisit.appointment.rulesOverridden"
    # Documents before the visit: a service's prerequisites (staff), an appointment's uploads
    # (its consumer, through the manage link).
    DOCUMENT_ADDED = "openvisit.document.added"
    DOCUMENT_UPLOADED = "openvisit.document.uploaded"
    DOCUMENT_DELETED = "openvisit.document.deleted"
    # The visit: staff admitting or sending away a waiting participant, ending the call.
    MEETING_PARTICIPANT_ADMITTED = "openvisit.meeting.participantAdmitted"
    MEETING_PARTICIPANT_DENIED = "openvisit.meeting.participantDenied"
    MEETING_ENDED = "openvisit.meeting.ended"
    MEETING_GUEST_INVITED = "openvisit.meeting.guestInvited"


@dataclass(frozen=True)
class RecordActions:
    """The life cycle actions of one kind of record inside a business."""

    created: Action
    updated: Action
    deleted: Action


SERVICE = RecordActions(Action.SERVICE_CREATED, Action.SERVICE_UPDATED, Action.SERVICE_DELETED)
STAFF_MEMBER = RecordActions(
    Action.STAFF_MEMBER_CREATED, Action.STAFF_MEMBER_UPDATED, Action.STAFF_MEMBER_DELETED
)
CUSTOMER = RecordActions(Action.CUSTOMER_CREATED, Action.CUSTOMER_UPDATED, Action.CUSTOMER_DELETED)
CUSTOM_QUESTION = RecordActions(
    Action.CUSTOM_QUESTION_CREATED, Action.CUSTOM_QUESTION_UPDATED, Action.CUSTOM_QUESTION_DELETED
)
