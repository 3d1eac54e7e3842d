"""bookingAppointment, and Graph's dateTimeTimeZone as requests write it.

A dateTimeTimeZone arrives as `{"dateTime": "2026-05-01T12:00:00.0000000+00:00",
"timeZone": "UTC"}`. An offset (or `Z`) inside `dateTime` wins; without one, `dateTime` is
wall-clock time in `timeZone` (IANA or Windows name). Appointment times always go back
out in UTC with seven fractional digits: `{"dateTime": "...T12:00:00.0000000Z",
"timeZone": "UTC"}`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from openvisit.bookings.timezones import UnknownTimeZone, resolve_zone
from openvisit.errors import InvalidInput
from openvisit.graph.schemas.complex import Location, Reminder
from openvisit.graph.schemas.types import (
    Duration,
    EmailAddress,
    GraphModel,
    Money,
    PhoneNumber,
    ShortText,
    Text,
    TimeZoneName,
    duration_at_most,
)
from openvisit.graph.schemas.versions import Versioned
from openvisit.graph.services import PriceType

# Exchange keeps calendar items between these years; outside them the arithmetic on
# buffers and day bounds could leave Python's datetime range.
FIRST_YEAR, LAST_YEAR = 1601, 4500
# Days a calendarView may span, as other Graph calendar views allow about a year.
MAX_VIEW_SPAN = timedelta(days=366)
_DATE_TIME = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,7}))?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:?\d{2})?$",
    re.ASCII,
)
_TRAILING_OFFSET = re.compile(r"(?<=\d) (?=\d{2}:?\d{2}$)", re.ASCII)


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"must lie between the years {FIRST_YEAR} and {LAST_YEAR}") from error
    if not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise ValueError(f"must lie between the years {FIRST_YEAR} and {LAST_YEAR}")
    return utc


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"'{text}' is not a UTC offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _wall_clock(text: str) -> tuple[datetime, timezone | None]:
    match = _DATE_TIME.match(text)
    if match is None:
        raise ValueError(
            f"dateTime '{text[:40]}' is not an ISO 8601 date and time such as "
            "2026-05-01T12:00:00.0000000"
        )
    parts = match.groupdict()
    # Seven digits are 100 ns ticks; datetime keeps microseconds, so the last one is cut.
    micro = int((parts["fraction"] or "0").ljust(7, "0")[:6])
    try:
        local = datetime(  # noqa: DTZ001 - wall-clock time; its zone is applied below
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            micro,
        )
    except ValueError as error:
        raise ValueError(f"dateTime '{text}' is not a valid date and time") from error
    return local, _offset(parts["offset"]) if parts["offset"] else None


def parse_date_time_time_zone(value: Any) -> datetime:
    """A dateTimeTimeZone object as an aware UTC datetime; ValueError says what is wrong."""
    if isinstance(value, datetime):  # built in code, not read from JSON
        if value.tzinfo is None:
            raise ValueError("must carry a time zone")
        return _in_range(value)
    if not isinstance(value, dict):
        raise ValueError(
            'must be an object such as {"dateTime": "2026-05-01T12:00:00", "timeZone": "UTC"}'
        )
    text, zone_name = value.get("dateTime"), value.get("timeZone")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("dateTime is required")
    if zone_name is not None and not isinstance(zone_name, str):
        raise ValueError("timeZone must be a string")
    zone = None
    if zone_name and zone_name.strip():
        if len(zone_name) > 64:
            raise ValueError("timeZone is longer than 64 characters")
        try:
            zone = resolve_zone(zone_name)
        except UnknownTimeZone as error:
            raise ValueError(f"timeZone {error}") from error
    local, offset = _wall_clock(text.strip())
    if offset is not None:
        return _in_range(local.replace(tzinfo=offset))
    if zone is None:
        raise ValueError("needs a timeZone, or an offset inside dateTime")
    aware = local.replace(tzinfo=zone)
    try:
        round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError as error:
        raise ValueError(f"must lie between the years {FIRST_YEAR} and {LAST_YEAR}") from error
    if round_trip != local:
        raise ValueError(f"{text} does not exist in {zone_name} (the clocks skip it)")
    # An ambiguous wall-clock time (clocks turned back) is its first occurrence (fold=0).
    return _in_range(aware)


def format_date_time(value: datetime) -> str:
    """Graph's UTC form: `2026-05-01T12:00:00.0000000Z`."""
    utc = value.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z"


def date_time_time_zone(value: datetime) -> dict[str, str]:
    return {"dateTime": format_date_time(value), "timeZone": "UTC"}


def parse_date_time_offset(text: str | None, name: str) -> datetime:
    """A query parameter such as calendarView's `start`: ISO 8601 with `Z` or an offset."""
    if text is None or not text.strip():
        raise InvalidInput("queryParameterRequired", target=name, name=name)
    # An unencoded '+' reaches us as a space: '...T10:00:00 05:00' can only mean +05:00.
    cleaned = _TRAILING_OFFSET.sub("+", text.strip()).upper()
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput("invalidDateTime", target=name, name=name, text=text[:40])
    try:
        return _in_range(parsed)
    except ValueError as error:
        # The only refusal of _in_range: a year Exchange does not take.
        raise InvalidInput(
            "dateOutOfRange", target=name, name=name, first=FIRST_YEAR, last=LAST_YEAR
        ) from error


DateTimeTimeZone = Annotated[
    datetime,
    BeforeValidator(parse_date_time_time_zone),
    PlainSerializer(date_time_time_zone, return_type=dict),
    WithJsonSchema(
        {
            "type": "object",
            "description": "An offset inside dateTime wins; otherwise dateTime is wall-clock "
            "time in timeZone (IANA or Windows name).",
            "properties": {
                "dateTime": {"type": "string", "examples": ["2026-05-01T12:00:00.0000000"]},
                "timeZone": {"type": "string", "examples": ["UTC", "Eastern Standard Time"]},
            },
            "required": ["dateTime"],
        }
    ),
]
AppointmentLength = Annotated[Duration, duration_at_most(timedelta(days=1), positive=True)]
Buffer = Annotated[Duration, duration_at_most(timedelta(days=1))]
ItemId = Annotated[str, Field(min_length=1, max_length=255)]
Options = Annotated[list[ShortText], Field(max_length=50)]


class QuestionAnswer(GraphModel):
    """bookingQuestionAnswer: a customer's answer to one of the service's questions."""

    question_id: ItemId
    question: Text | None = None
    answer_input_type: Literal["text", "radioButton", "unknownFutureValue"] | None = None
    answer_options: Options | None = None
    is_required: bool | None = None
    answer: Text | None = None
    selected_options: Options | None = None


class CustomerInformation(Versioned):
    """bookingCustomerInformation: one customer of an appointment."""

    BETA_ONLY = frozenset({"smsNotificationsEnabled"})

    customer_id: ItemId | None = None
    name: ShortText | None = None
    email_address: EmailAddress | None = None
    phone: PhoneNumber | None = None
    notes: Text | None = None
    location: Location | None = None
    time_zone: TimeZoneName | None = None
    custom_question_answers: Annotated[list[QuestionAnswer], Field(max_length=50)] = []
    sms_notifications_enabled: bool | None = Field(
        default=None, description="beta only; when not sent, the appointment's own value."
    )


class AppointmentDetails(GraphModel):
    """Properties the booking rules do not read: stored as sent and returned as stored."""

    service_notes: Text | None = None
    additional_information: Text | None = None
    is_location_online: bool | None = None
    sms_notifications_enabled: bool | None = None
    opt_out_of_customer_email: bool | None = None
    price: Money | None = None
    price_type: PriceType | None = None
    reminders: Annotated[list[Reminder], Field(max_length=20)] | None = None
    service_location: Location | None = None
    appointment_label: ShortText | None = None
    is_customer_allowed_to_manage_booking: bool | None = None
    # beta only: invoice fields, returned under /beta.
    invoice_amount: Money | None = None
    invoice_date: DateTimeTimeZone | None = None
    invoice_id: ShortText | None = None
    invoice_status: (
        Literal["draft", "reviewing", "open", "canceled", "paid", "corrective"] | None
    ) = None
    invoice_url: Annotated[str, Field(max_length=2048)] | None = None


DETAIL_FIELDS = tuple(AppointmentDetails.model_fields)
# Graph's values for details a request left out (isCustomerAllowedToManageBooking is
# taken from the service when the appointment is booked).
DETAIL_DEFAULTS: dict[str, Any] = {
    "serviceNotes": None,
    "additionalInformation": None,
    "isLocationOnline": False,
    "smsNotificationsEnabled": False,
    "optOutOfCustomerEmail": False,
    "price": 0.0,
    "priceType": "undefined",
    "reminders": [],
    "serviceLocation": None,
    "appointmentLabel": None,
    "isCustomerAllowedToManageBooking": True,
    "joinWebUrl": None,
    "anonymousJoinWebUrl": None,
}
BETA_DETAIL_DEFAULTS: dict[str, Any] = {
    "invoiceAmount": None,
    "invoiceDate": None,
    "invoiceId": None,
    "invoiceStatus": None,
    "invoiceUrl": None,
}


class BookingAppointmentBody(AppointmentDetails):
    """A create or update request, in the v1.0 shape or the flat beta one.

    serviceName, maximumAttendeesCount, filledAttendeesCount, selfServiceAppointmentId,
    joinWebUrl and anonymousJoinWebUrl are read-only here: the server computes them and
    ignores what is sent (the two links are the online meeting's, meetings/links.py).
    """

    service_id: ItemId | None = Field(default=None, description="Required on create.")
    start_date_time: DateTimeTimeZone | None = Field(
        default=None, description="Required on create (or beta `start`)."
    )
    end_date_time: DateTimeTimeZone | None = Field(
        default=None, description="Default: start plus duration, or the service's length."
    )
    duration: AppointmentLength | None = None
    staff_member_ids: Annotated[list[ItemId], Field(max_length=100)] | None = None
    customers: Annotated[list[CustomerInformation], Field(max_length=500)] | None = None
    customer_time_zone: TimeZoneName | None = None
    pre_buffer: Buffer | None = None
    post_buffer: Buffer | None = None
    # The flat beta shape; used only when `customers` is absent.
    start: DateTimeTimeZone | None = Field(default=None, description="beta: startDateTime.")
    end: DateTimeTimeZone | None = Field(default=None, description="beta: endDateTime.")
    customer_id: ItemId | None = None
    customer_name: ShortText | None = None
    customer_email_address: EmailAddress | None = None
    customer_phone: PhoneNumber | None = None
    customer_notes: Text | None = None
    customer_location: Location | None = None


class CancelBody(GraphModel):
    cancellation_message: Text | None = None


class DateTimeTimeZoneOut(GraphModel):
    date_time: str = Field(examples=["2026-05-01T12:00:00.0000000Z"])
    time_zone: str = Field(examples=["UTC"])


class CustomerInformationOut(CustomerInformation):
    odata_type: str = Field(
        default="#microsoft.graph.bookingCustomerInformation", alias="@odata.type"
    )


class BookingAppointmentOut(GraphModel):
    """What GET returns (v1.0); /beta adds start, end and the first customer's fields."""

    id: str
    self_service_appointment_id: str
    service_id: str | None
    service_name: str
    start_date_time: DateTimeTimeZoneOut
    end_date_time: DateTimeTimeZoneOut
    duration: str
    pre_buffer: str
    post_buffer: str
    staff_member_ids: list[str]
    customers: list[CustomerInformationOut]
    customer_time_zone: str | None
    maximum_attendees_count: int
    filled_attendees_count: int
    service_notes: str | None
    additional_information: str | None
    is_location_online: bool
    sms_notifications_enabled: bool
    opt_out_of_customer_email: bool
    price: float
    price_type: str
    reminders: list[Reminder]
    service_location: Location | None
    appointment_label: str | None
    is_customer_allowed_to_manage_booking: bool
    join_web_url: str | None
    anonymous_join_web_url: str | None
    created_date_time: str
    last_updated_date_time: str


class BookingAppointmentCollection(GraphModel):
    value: list[BookingAppointmentOut]
