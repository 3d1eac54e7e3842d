"""/bookingBusinesses/{id}/staffMembers: bookingStaffMember."""

from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import Field, field_validator

from openvisit.auth import access
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.bookings.views import StaffMemberView
from openvisit.graph.changes import body_changes, require
from openvisit.graph.children import ChildApi, child_router
from openvisit.graph.responses import api_version, nested, timestamp
from openvisit.graph.schemas.complex import WeekHours, WorkHours, check_unique_days
from openvisit.graph.schemas.types import EmailAddress, GraphModel, Name, TimeZoneName
from openvisit.graph.schemas.versions import BETA

StaffRole = Literal[
    "guest",
    "administrator",
    "viewer",
    "externalGuest",
    "unknownFutureValue",
    "scheduler",
    "teamMember",
]
# Evolvable enum members listed after unknownFutureValue in Graph's metadata; clients see
# them only when they ask with `Prefer: include-unknown-enum-members`.
EVOLVED_ROLES = frozenset({"scheduler", "teamMember"})


class BookingStaffMemberBody(GraphModel):
    display_name: Name | None = Field(default=None, description="Required on create.")
    email_address: EmailAddress | None = Field(default=None, description="Required on create.")
    role: StaffRole | None = Field(default=None, description="Required on create.")
    time_zone: TimeZoneName | None = None
    use_business_hours: bool | None = None
    working_hours: WeekHours | None = None
    is_email_notification_enabled: bool | None = None
    availability_is_affected_by_personal_calendar: bool | None = None
    membership_status: (
        Literal["active", "pendingAcceptance", "rejectedByStaff", "unknownFutureValue"] | None
    ) = None
    color_index: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        default=None,
        description="beta only (Edm.Int32): the staff member's colour in the Bookings "
        "palette; answered under /beta, default 0.",
    )

    @field_validator("working_hours")
    @classmethod
    def _unique_days(cls, value: list[WorkHours] | None) -> list[WorkHours] | None:
        check_unique_days(value)
        return value


class BookingStaffMemberOut(BookingStaffMemberBody):
    id: str
    created_date_time: str | None = None
    last_updated_date_time: str | None = None


class BookingStaffMemberCollection(GraphModel):
    value: list[BookingStaffMemberOut]


NOT_NULL = frozenset(
    {
        "display_name",
        "email_address",  # create requires it, so a PATCH may not clear it
        "role",
        "use_business_hours",
        "working_hours",
        "is_email_notification_enabled",
        "availability_is_affected_by_personal_calendar",
        "membership_status",
        "color_index",
    }
)


def wants_evolved_enums(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return "include-unknown-enum-members" in prefer.lower()


def staff_json(member: StaffMemberView, request: Request) -> dict[str, Any]:
    role = member.role
    if role in EVOLVED_ROLES and not wants_evolved_enums(request):
        role = "unknownFutureValue"
    version = api_version(request)
    beta_only = {"colorIndex": member.color_index} if version == BETA else {}
    return {
        "id": member.id,
        "displayName": member.display_name,
        "emailAddress": member.email_address,
        "role": role,
        "timeZone": member.time_zone,
        "useBusinessHours": member.use_business_hours,
        "workingHours": nested(WorkHours, member.working_hours, version),
        "isEmailNotificationEnabled": member.is_email_notification_enabled,
        "availabilityIsAffectedByPersonalCalendar": (
            member.availability_is_affected_by_personal_calendar
        ),
        "membershipStatus": member.membership_status,
        **beta_only,
        "createdDateTime": timestamp(member.created_date_time),
        "lastUpdatedDateTime": timestamp(member.last_updated_date_time),
    }


def staff_changes(body: BookingStaffMemberBody, creating: bool) -> dict[str, Any]:
    if creating:
        require(body, "display_name", "email_address", "role")
    return body_changes(body, not_null=NOT_NULL)


STAFF_API = ChildApi(
    kind=STAFF_MEMBERS,
    segment="staffMembers",
    tag="bookingStaffMember",
    odata_type="#microsoft.graph.bookingStaffMember",
    body_model=BookingStaffMemberBody,
    out_model=BookingStaffMemberOut,
    collection_model=BookingStaffMemberCollection,
    to_json=staff_json,
    to_changes=staff_changes,
    read_operation=access.STAFF_READ,
    write_operation=access.STAFF_WRITE,
    update_operation=access.STAFF_UPDATE,
)
router = child_router(STAFF_API)
