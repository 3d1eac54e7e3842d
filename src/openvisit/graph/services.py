"""/bookingBusinesses/{id}/services: bookingService."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Request
from pydantic import Field

from openvisit.auth import access
from openvisit.bookings.links import service_page_url
from openvisit.bookings.services import SERVICES
from openvisit.bookings.views import ServiceView
from openvisit.graph.changes import body_changes, require, seconds
from openvisit.graph.children import ChildApi, child_router
from openvisit.graph.responses import api_version, nested, timestamp
from openvisit.graph.schemas.complex import (
    Location,
    QuestionAssignment,
    Reminder,
    SchedulingPolicy,
)
from openvisit.graph.schemas.types import (
    Duration,
    GraphModel,
    LanguageTag,
    Money,
    Name,
    Text,
    duration_at_most,
)
from openvisit.scheduling.isotime import format_duration

PriceType = Annotated[
    str,
    Field(
        pattern="^(undefined|fixedPrice|startingAt|hourly|free|"
        "priceVaries|callUs|notSet|unknownFutureValue)$"
    ),
]
ServiceLength = Annotated[Duration, duration_at_most(timedelta(days=1), positive=True)]
Buffer = Annotated[Duration, duration_at_most(timedelta(days=1))]
ChangeCutoff = Annotated[Duration, duration_at_most(timedelta(days=30))]


class BookingServiceBody(GraphModel):
    display_name: Name | None = Field(default=None, description="Required on create.")
    description: Text | None = None
    notes: Text | None = None
    additional_information: Text | None = None
    default_duration: ServiceLength | None = None
    pre_buffer: Buffer | None = None
    post_buffer: Buffer | None = None
    default_price: Money | None = None
    default_price_type: PriceType | None = None
    default_location: Location | None = None
    default_reminders: Annotated[list[Reminder], Field(max_length=20)] | None = None
    custom_questions: Annotated[list[QuestionAssignment], Field(max_length=50)] | None = None
    staff_member_ids: (
        Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=100)] | None
    ) = None
    scheduling_policy: SchedulingPolicy | None = None
    is_location_online: bool | None = None
    is_anonymous_join_enabled: bool | None = None
    is_customer_allowed_to_manage_booking: bool | None = None
    is_hidden_from_customers: bool | None = None
    sms_notifications_enabled: bool | None = None
    language_tag: LanguageTag | None = None
    maximum_attendees_count: Annotated[int, Field(ge=1, le=10_000)] | None = None
    change_cutoff: ChangeCutoff | None = Field(
        default=None,
        description=(
            "OpenVisit extension: reschedule and cancel close this long before the start "
            "for everyone but Bookings.Manage.All callers (ISO 8601, default PT0S)."
        ),
    )


class BookingServiceOut(BookingServiceBody):
    id: str
    web_url: str | None = None
    created_date_time: str | None = None
    last_updated_date_time: str | None = None


class BookingServiceCollection(GraphModel):
    value: list[BookingServiceOut]


DURATIONS = {
    "default_duration": "default_duration_seconds",
    "pre_buffer": "pre_buffer_seconds",
    "post_buffer": "post_buffer_seconds",
    "change_cutoff": "change_cutoff_seconds",
}
NOT_NULL = frozenset(
    {
        "display_name",
        "default_duration",
        "change_cutoff",
        "pre_buffer",
        "post_buffer",
        "default_price",
        "default_price_type",
        "maximum_attendees_count",
        "is_location_online",
        "is_anonymous_join_enabled",
        "is_customer_allowed_to_manage_booking",
        "is_hidden_from_customers",
        "sms_notifications_enabled",
        "staff_member_ids",
        "custom_questions",
        "default_reminders",
    }
)
DEFAULTS: dict[str, Any] = {
    "default_duration": timedelta(minutes=30),
    "pre_buffer": timedelta(0),
    "post_buffer": timedelta(0),
}


def service_json(service: ServiceView, request: Request) -> dict[str, Any]:
    # A link people follow: the public base URL, not whatever host the API was called on.
    base = request.app.state.runtime.base_url
    version = api_version(request)
    return {
        "id": service.id,
        "displayName": service.display_name,
        "description": service.description,
        "notes": service.notes,
        "additionalInformation": service.additional_information,
        "defaultDuration": format_duration(timedelta(seconds=service.default_duration_seconds)),
        "preBuffer": format_duration(timedelta(seconds=service.pre_buffer_seconds)),
        "postBuffer": format_duration(timedelta(seconds=service.post_buffer_seconds)),
        "defaultPrice": service.default_price,
        "defaultPriceType": service.default_price_type,
        "defaultLocation": nested(Location, service.default_location, version),
        "defaultReminders": nested(Reminder, service.default_reminders, version),
        "customQuestions": nested(QuestionAssignment, service.custom_questions, version),
        "staffMemberIds": list(service.staff_member_ids),
        "schedulingPolicy": nested(SchedulingPolicy, service.scheduling_policy, version),
        "isLocationOnline": service.is_location_online,
        "isAnonymousJoinEnabled": service.is_anonymous_join_enabled,
        "isCustomerAllowedToManageBooking": service.is_customer_allowed_to_manage_booking,
        "isHiddenFromCustomers": service.is_hidden_from_customers,
        "smsNotificationsEnabled": service.sms_notifications_enabled,
        "languageTag": service.language_tag,
        "maximumAttendeesCount": service.maximum_attendees_count,
        "changeCutoff": format_duration(timedelta(seconds=service.change_cutoff_seconds)),
        "webUrl": service_page_url(base, service.business_id, service.id),
        "createdDateTime": timestamp(service.created_date_time),
        "lastUpdatedDateTime": timestamp(service.last_updated_date_time),
    }


def service_changes(body: BookingServiceBody, creating: bool) -> dict[str, Any]:
    if creating:
        require(body, "display_name")
    return body_changes(
        body,
        not_null=NOT_NULL,
        columns=DURATIONS,
        converters=dict.fromkeys(DURATIONS, seconds),
        defaults=DEFAULTS if creating else None,
    )


SERVICE_API = ChildApi(
    kind=SERVICES,
    segment="services",
    tag="bookingService",
    odata_type=None,
    body_model=BookingServiceBody,
    out_model=BookingServiceOut,
    collection_model=BookingServiceCollection,
    to_json=service_json,
    to_changes=service_changes,
    read_operation=access.SERVICE_READ,
    write_operation=access.SERVICE_WRITE,
)
router = child_router(SERVICE_API)
