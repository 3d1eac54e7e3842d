"""Who may do what: Bookings' staff roles per operation, checked on every API call.

A token acts in one of two ways:

- An application token (made without `--user`) is bounded by its scopes only.
- A token made with `--user` acts with that user's role *and* its scopes; the narrower
  wins. A user whose own role is `administrator` is a server administrator:
  administrator in every business, and the only user who may create businesses. Any
  other user's role in a business is the role of that business's active staff member
  with the user's e-mail (`store/memberships.py`), as Bookings grants it. Where the user
  is no member, the business answers 404 as if it did not exist.

`OPERATIONS` is the one table of operation -> scope -> roles; the REST API names an
operation on every route (`graph/deps.py::require`), and docs/auth.md shows the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openvisit.auth import scopes
from openvisit.auth.tokens import Principal
from openvisit.errors import Forbidden, NotFound
from openvisit.store.db import Database
from openvisit.store.memberships import ACCESS_ROLES, MEMBERSHIP

SERVER_ADMINISTRATOR = "administrator"  # a StaffUser's own role that makes one
# Bookings' columns, in the order the docs show them.
ROLES = ACCESS_ROLES
Grant = Literal["all", "own"]
ALL: Grant = "all"
OWN: Grant = "own"


@dataclass(frozen=True)
class Operation:
    """One kind of API call: the scope it needs and what each role may do with it.

    `grants` maps a role to "all" or to "own" (only the caller's own appointments or
    staff record); a role missing from it may not do the operation. `in_business` is
    False for calls outside any business (listing or creating businesses, currencies,
    /me), where a member's role cannot apply. `scope` None means any valid token will
    do: a JSON batch (graph/batch.py) checks nothing itself, each request inside it is
    checked as its own operation.
    """

    name: str
    label: str
    scope: str | None
    grants: dict[str, Grant]
    in_business: bool = True
    # The scope an application token needs to act for a user it names in the path
    # (`/users/{id}/onlineMeetings`), as Graph's application permissions are.
    other_user_scope: str | None = None


def _op(name: str, label: str, scope: str, **grants: Grant) -> Operation:
    return Operation(name, label, scope, grants)


# Everyone inside the business but external guests, who see their own appointments only.
_READERS: dict[str, Grant] = {role: ALL for role in ROLES if role != "externalGuest"}
_EVERYONE: dict[str, Grant] = dict.fromkeys(ROLES, ALL)

BUSINESS_LIST = Operation(
    "business.list", "list and count businesses", scopes.BOOKINGS_READ, _EVERYONE, False
)
BUSINESS_CREATE = Operation(
    "business.create",
    "create a business (server administrators only)",
    scopes.BOOKINGS_MANAGE,
    {},
    in_business=False,
)
BUSINESS_READ = Operation("business.read", "get a business", scopes.BOOKINGS_READ, _EVERYONE)
BUSINESS_UPDATE = _op(
    "business.update", "update a business", scopes.BOOKINGS_READWRITE, administrator=ALL
)
BUSINESS_DELETE = _op(
    "business.delete", "delete a business", scopes.BOOKINGS_MANAGE, administrator=ALL
)
BUSINESS_PUBLISH = _op(
    "business.publish", "publish, unpublish a business", scopes.BOOKINGS_MANAGE, administrator=ALL
)
SERVICE_READ = Operation("service.read", "list, get services", scopes.BOOKINGS_READ, _READERS)
SERVICE_WRITE = _op(
    "service.write", "create, update, delete services", scopes.BOOKINGS_READWRITE, administrator=ALL
)
STAFF_READ = Operation("staff.read", "list, get staff members", scopes.BOOKINGS_READ, _READERS)
STAFF_WRITE = _op(
    "staff.write", "create, delete staff members", scopes.BOOKINGS_READWRITE, administrator=ALL
)
STAFF_UPDATE = _op(
    "staff.update",
    "update a staff member (own: schedule only)",
    scopes.BOOKINGS_READWRITE,
    administrator=ALL,
    teamMember=OWN,
)
CUSTOMER_READ = _op(
    "customer.read",
    "list, get customers",
    scopes.BOOKINGS_READ,
    administrator=ALL,
    scheduler=ALL,
    viewer=ALL,
)
CUSTOMER_WRITE = _op(
    "customer.write",
    "create, update, delete customers",
    scopes.BOOKINGS_APPOINTMENT_READWRITE,
    administrator=ALL,
    scheduler=ALL,
)
QUESTION_READ = Operation(
    "question.read", "list, get custom questions", scopes.BOOKINGS_READ, _READERS
)
QUESTION_WRITE = _op(
    "question.write",
    "create, update, delete custom questions",
    scopes.BOOKINGS_APPOINTMENT_READWRITE,
    administrator=ALL,
)
APPOINTMENT_READ = Operation(
    "appointment.read",
    "list, count, get appointments; calendarView",
    scopes.BOOKINGS_READ,
    {**_READERS, "teamMember": OWN, "externalGuest": OWN},
)
APPOINTMENT_WRITE = _op(
    "appointment.write",
    "book, update, cancel, delete appointments",
    scopes.BOOKINGS_APPOINTMENT_READWRITE,
    administrator=ALL,
    scheduler=ALL,
    teamMember=OWN,
)
SERVICE_DOCUMENT_READ = Operation(
    "serviceDocument.read",
    "list, get, download a service's documents (OpenVisit)",
    scopes.BOOKINGS_READ,
    _READERS,
)
SERVICE_DOCUMENT_WRITE = _op(
    "serviceDocument.write",
    "add, delete a service's documents (OpenVisit)",
    scopes.BOOKINGS_MANAGE,
    administrator=ALL,
    scheduler=ALL,
)
APPOINTMENT_DOCUMENT_READ = Operation(
    "appointmentDocument.read",
    "list, get, download an appointment's documents (OpenVisit)",
    scopes.BOOKINGS_READ,
    {**_READERS, "teamMember": OWN, "externalGuest": OWN},
)
NOTIFICATION_READ = Operation(
    "notification.read",
    "read an appointment's delivery log (openvisit.notifications)",
    scopes.BOOKINGS_READ,
    {**_READERS, "teamMember": OWN, "externalGuest": OWN},
)
AVAILABILITY_READ = Operation(
    "availability.read",
    "getStaffAvailability, availableSlots, openvisit.slotCounts",
    scopes.BOOKINGS_READ,
    _READERS,
)
CALENDAR_FEED_MANAGE = _op(
    "calendarFeed.manage",
    "create, rotate, see, revoke a staff member's calendar feed (own: their own)",
    scopes.BOOKINGS_MANAGE,
    administrator=ALL,
    scheduler=ALL,
    teamMember=OWN,
)
CURRENCY_READ = Operation(
    "currency.read", "list, get currencies", scopes.BOOKINGS_READ, _EVERYONE, False
)
ME_READ = Operation("me.read", "get /me", scopes.USER_READ, _EVERYONE, in_business=False)
# A user's online meetings: a token acting for a user reaches that user's own only
# (meetings/owners.py); an application token names the user in the path.
MEETING_READ = Operation(
    "onlineMeeting.read",
    "list, get online meetings and their virtualAppointment",
    scopes.ONLINE_MEETINGS_READ,
    _EVERYONE,
    in_business=False,
    other_user_scope=scopes.ONLINE_MEETINGS_READ_ALL,
)
MEETING_WRITE = Operation(
    "onlineMeeting.write",
    "create, update, delete online meetings and their virtualAppointment",
    scopes.ONLINE_MEETINGS_READWRITE,
    _EVERYONE,
    in_business=False,
    other_user_scope=scopes.ONLINE_MEETINGS_READWRITE_ALL,
)
MEETING_JOIN_URL = Operation(
    "onlineMeeting.joinUrl",
    "getVirtualAppointmentJoinWebUrl (the consumer's link)",
    scopes.VIRTUAL_APPOINTMENT_READ,
    _EVERYONE,
    in_business=False,
    other_user_scope=scopes.ONLINE_MEETINGS_READ_ALL,
)
MEETING_SMS = Operation(
    "onlineMeeting.sms",
    "sendVirtualAppointmentSms, sendVirtualAppointmentReminderSms",
    scopes.VIRTUAL_APPOINTMENT_NOTIFICATION_SEND,
    _EVERYONE,
    in_business=False,
    other_user_scope=scopes.ONLINE_MEETINGS_READWRITE_ALL,
)
MEETING_ATTENDANCE_READ = Operation(
    "onlineMeeting.attendance",
    "list, get attendance reports and records",
    scopes.ONLINE_MEETING_ARTIFACT_READ_ALL,
    _EVERYONE,
    in_business=False,
    other_user_scope=scopes.ONLINE_MEETING_ARTIFACT_READ_ALL,
)
BATCH_SEND = Operation(
    "batch.send",
    "send a JSON batch (each request in it is checked as its own operation)",
    None,
    _EVERYONE,
    in_business=False,
)

OPERATIONS: tuple[Operation, ...] = (
    BUSINESS_LIST,
    BUSINESS_CREATE,
    BUSINESS_READ,
    BUSINESS_UPDATE,
    BUSINESS_DELETE,
    BUSINESS_PUBLISH,
    SERVICE_READ,
    SERVICE_WRITE,
    STAFF_READ,
    STAFF_WRITE,
    STAFF_UPDATE,
    CUSTOMER_READ,
    CUSTOMER_WRITE,
    QUESTION_READ,
    QUESTION_WRITE,
    APPOINTMENT_READ,
    APPOINTMENT_WRITE,
    SERVICE_DOCUMENT_READ,
    SERVICE_DOCUMENT_WRITE,
    APPOINTMENT_DOCUMENT_READ,
    NOTIFICATION_READ,
    AVAILABILITY_READ,
    CALENDAR_FEED_MANAGE,
    CURRENCY_READ,
    ME_READ,
    MEETING_READ,
    MEETING_WRITE,
    MEETING_JOIN_URL,
    MEETING_SMS,
    MEETING_ATTENDANCE_READ,
    BATCH_SEND,
)
# Those who may ask a booking to ignore working hours and scheduling policy.
OVERRIDE_ROLES = frozenset({"administrator", "scheduler"})
# A team member edits their own schedule, nothing that changes who they are or may do.
OWN_STAFF_FIELDS = frozenset(
    {
        "time_zone",
        "use_business_hours",
        "working_hours",
        "is_email_notification_enabled",
        "availability_is_affected_by_personal_calendar",
    }
)


@dataclass(frozen=True)
class Caller:
    """The checked caller of one request: the token, and the role it acts with here.

    `role` is None for an application token. `staff_member_id` is the caller's own
    staff member in the business (None for application tokens and server
    administrators); `grant` is "own" when only that member's things are allowed.
    """

    principal: Principal
    role: str | None = None
    staff_member_id: str | None = None
    grant: Grant = ALL
    server_administrator: bool = False

    @property
    def actor(self) -> str:
        return self.principal.actor

    @property
    def scopes(self) -> frozenset[str]:
        return self.principal.scopes

    @property
    def own_staff_id(self) -> str | None:
        """The staff member whose things alone the caller may touch, else None (all)."""
        return self.staff_member_id if self.grant == OWN else None

    @property
    def member_email(self) -> str | None:
        """The e-mail whose memberships bound what the caller sees; None: everything."""
        if self.principal.user_id is None or self.server_administrator:
            return None
        return self.principal.user_email

    @property
    def may_override_rules(self) -> bool:
        if self.role is None:
            return scopes.BOOKINGS_MANAGE in self.scopes
        return self.role in OVERRIDE_ROLES


def needs_membership(operation: Operation, principal: Principal) -> bool:
    """Whether authorizing this call needs the user's membership read from the database."""
    return (
        operation.in_business
        and principal.user_id is not None
        and principal.user_role != SERVER_ADMINISTRATOR
    )


def find_membership(db: Database, email: str | None, business_id: str) -> tuple[str, str] | None:
    """(staff member id, role) of the user in the business, the most powerful if several."""
    if email is None or "\x00" in business_id:
        return None
    with db.read() as session:
        rows = session.execute(
            MEMBERSHIP, {"business_id": business_id.lower(), "email": email.lower()}
        ).all()
    members = [(str(staff_id), str(role)) for staff_id, role in rows]
    if not members:
        return None
    return min(members, key=lambda member: (ROLES.index(member[1]), member[0]))


def authorize(
    operation: Operation,
    principal: Principal,
    business_id: str | None,
    membership: tuple[str, str] | None,
) -> Caller:
    """The caller if `operation` is allowed, else Forbidden (403) or NotFound (404)."""
    if operation.scope is not None and not scopes.grants(principal.scopes, operation.scope):
        raise Forbidden("scopeMissing", scope=operation.scope)
    if principal.user_id is None:
        return Caller(principal)
    if principal.user_role == SERVER_ADMINISTRATOR:
        return Caller(principal, role=SERVER_ADMINISTRATOR, server_administrator=True)
    if not operation.in_business or business_id is None:
        if not operation.grants:
            raise Forbidden("administratorOnly", operation=operation.label)
        return Caller(principal)
    if membership is None:
        # Not a member: the business must look as absent as one that does not exist.
        raise NotFound("businessNotFound", business=business_id)
    staff_id, role = membership
    grant = operation.grants.get(role)
    if grant is None:
        raise Forbidden("roleNotAllowed", role=role, operation=operation.label)
    return Caller(principal, role=role, staff_member_id=staff_id, grant=grant)


def check_own_staff_change(caller: Caller, record_id: str, fields: set[str]) -> None:
    """A caller limited to their own staff record changes only their schedule there."""
    own = caller.own_staff_id
    if caller.grant != OWN:
        return
    if own != record_id:
        raise Forbidden("ownStaffOnly", role=caller.role)
    extra = sorted(fields - OWN_STAFF_FIELDS)
    if extra:
        raise Forbidden("ownScheduleOnly", role=caller.role, fields=extra)


def check_own_calendar_feed(caller: Caller, staff_id: str) -> None:
    """A caller limited to their own things manages only their own feed: the URL lets
    anyone who has it read a calendar, so one team member may not mint another's."""
    if caller.grant == OWN and caller.own_staff_id != staff_id:
        raise Forbidden("ownCalendarFeedOnly", role=caller.role)


def matrix_markdown() -> str:
    """The role x operation table docs/auth.md shows (a test keeps them equal)."""
    marks = {ALL: "yes", OWN: "own"}
    head = "| operation | scope | " + " | ".join(ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    lines = [head, rule]
    for operation in OPERATIONS:
        grants = [operation.grants.get(role) for role in ROLES]
        cells = ["no" if grant is None else marks[grant] for grant in grants]
        scope = "any" if operation.scope is None else f"`{operation.scope}`"
        lines.append(f"| {operation.label} | {scope} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
