"""/bookingBusinesses/{id}/appointments and /calendarView: bookingAppointment.

Every write goes through `bookings.appointments` (book, reschedule, cancel, delete), so
the booking rules hold here as everywhere. Decisions where Graph leaves room:

- Booking rules (working hours, lead time, maximum advance, change cutoff) are set aside
  only on request, with `Prefer: openvisit.override-booking-rules`, by a caller allowed
  to (auth/access.py); the answer then carries `Preference-Applied`. Never overlap.
- POST is idempotent under `Idempotency-Key`, or else `client-request-id` (which
  msgraph-sdk keeps across its own retries). A retry with the same body answers 201 with
  the first appointment again; the same key with another body answers 409. The body's
  fingerprint is taken after validation, so annotations and key order do not matter.
- PATCH merges the sent properties into the stored appointment and books the result
  again under the same rules (`bookings.appointments.changes`); a new serviceId without
  an end takes that service's length.
- A cancelled appointment is gone for Graph clients, as cancelling takes it off the
  business's calendar: lists and calendarView leave it out, GET and PATCH answer 404,
  a second cancel 409. The row stays for history.
- Each root answers in its CSDL's shape: v1.0 startDateTime/endDateTime, beta start/end,
  customerId, customerLocation, onlineMeetingUrl and the invoice fields; both carry the
  first customer's flat customerName, customerEmailAddress, customerPhone, customerNotes.
  A request may use either shape under either root (the flat customer fields when
  `customers` is absent).
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings import appointment_queries, appointments
from openvisit.bookings.appointments import KEEP, AppointmentChanges
from openvisit.bookings.authority import Authority, grant
from openvisit.bookings.views import AppointmentView
from openvisit.errors import InvalidInput
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.odata import (
    collection,
    count_response,
    parse_options,
    select_properties,
)
from openvisit.graph.responses import (
    api_version,
    context_url,
    nested,
    quote_key,
    stored,
    timestamp,
)
from openvisit.graph.schemas.appointment import (
    BETA_DETAIL_DEFAULTS,
    DETAIL_DEFAULTS,
    DETAIL_FIELDS,
    MAX_VIEW_SPAN,
    BookingAppointmentBody,
    BookingAppointmentCollection,
    BookingAppointmentOut,
    CancelBody,
    CustomerInformation,
    date_time_time_zone,
    parse_date_time_offset,
)
from openvisit.graph.schemas.complex import Location, Reminder
from openvisit.graph.schemas.types import GraphModel
from openvisit.graph.schemas.versions import BETA, ApiVersion
from openvisit.meetings import links
from openvisit.meetings.views import MeetingLinks
from openvisit.runtime import Runtime
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.isotime import format_duration

BUSINESSES = "/solutions/bookingBusinesses/{business_id}"
CUSTOMER_TYPE = "#microsoft.graph.bookingCustomerInformation"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
CLIENT_REQUEST_PREFIX = "client-request-id:"
NOT_NULL = frozenset(
    {
        "service_id",
        "start_date_time",
        "end_date_time",
        "start",
        "end",
        "duration",
        "staff_member_ids",
        "customers",
        "pre_buffer",
        "post_buffer",
    }
)
# The flat beta customer properties -> bookingCustomerInformation keys.
FLAT_CUSTOMER = {
    "customer_id": "customerId",
    "customer_name": "name",
    "customer_email_address": "emailAddress",
    "customer_phone": "phone",
    "customer_notes": "notes",
    "customer_location": "location",
}
NESTED_DETAILS: dict[str, type[GraphModel]] = {"reminders": Reminder, "serviceLocation": Location}

router = APIRouter(prefix=BUSINESSES, tags=["bookingAppointment"])
Reader = Annotated[Caller, Depends(Require(access.APPOINTMENT_READ))]
Writer = Annotated[Caller, Depends(Require(access.APPOINTMENT_WRITE))]
# An OpenVisit preference (RFC 7240, as Graph passes options): book or change outside
# working hours and scheduling policy.
OVERRIDE_PREFERENCE = "openvisit.override-booking-rules"


# --- requests -> the booking service ------------------------------------------------------


def preferences(request: Request) -> set[str]:
    """The preference names of the Prefer headers (values and parameters dropped)."""
    names = set()
    for header in request.headers.getlist("prefer"):
        for item in header.split(","):
            names.add(item.split(";", 1)[0].split("=", 1)[0].strip().lower())
    return names


def authority(caller: Caller, request: Request) -> Authority:
    """The booking powers of this request: its own calendar only, or an override asked for."""
    return grant(
        caller.actor,
        override=(
            f"Prefer: {OVERRIDE_PREFERENCE}"
            if OVERRIDE_PREFERENCE in preferences(request)
            else None
        ),
        may_override=caller.may_override_rules,
        own_staff_id=caller.own_staff_id,
    )


def applied(authority: Authority) -> dict[str, str]:
    return {"Preference-Applied": OVERRIDE_PREFERENCE} if authority.override_hours else {}


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                "invalidIdempotencyKey",
                target=IDEMPOTENCY_HEADER,
                header=IDEMPOTENCY_HEADER,
                limit=MAX_KEY_LENGTH,
            )
        return key
    # A correlation id is no promise: one too long to store is simply not used as a key.
    correlation = (request.headers.get("client-request-id") or "").strip()
    if correlation and len(CLIENT_REQUEST_PREFIX + correlation) <= MAX_KEY_LENGTH:
        return CLIENT_REQUEST_PREFIX + correlation
    return None


def fingerprint(body: BookingAppointmentBody) -> str:
    """sha256 of the validated body's canonical JSON (sent properties only)."""
    sent = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    canonical = json.dumps(sent, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _refuse_nulls(body: BookingAppointmentBody) -> None:
    for name in sorted(NOT_NULL & body.model_fields_set):
        if getattr(body, name) is None:
            alias = BookingAppointmentBody.model_fields[name].alias or name
            raise InvalidInput("propertyNotNull", target=alias, property=alias)


def _sent_details(body: BookingAppointmentBody) -> tuple[dict[str, Any], set[str]]:
    """(details sent with a value, in camelCase; details sent as null)."""
    names = body.model_fields_set & set(DETAIL_FIELDS)
    values = body.model_dump(mode="json", by_alias=True, include=names, exclude_none=True)
    cleared = {
        BookingAppointmentBody.model_fields[name].alias or name
        for name in names
        if getattr(body, name) is None
    }
    return values, cleared


def _flat_customer(body: BookingAppointmentBody) -> dict[str, Any]:
    flat = {key: getattr(body, name) for name, key in FLAT_CUSTOMER.items()}
    return {
        key: stored(value) if isinstance(value, BaseModel) else value
        for key, value in flat.items()
        if value is not None
    }


def changes(body: BookingAppointmentBody) -> AppointmentChanges:
    """The properties the body sent, for the booking service to create or merge."""
    _refuse_nulls(body)
    details, cleared = _sent_details(body)
    sent = body.model_fields_set
    return AppointmentChanges(
        service_id=body.service_id,
        start=body.start_date_time or body.start,
        end=body.end_date_time or body.end,
        duration=body.duration,
        staff_ids=None if body.staff_member_ids is None else tuple(body.staff_member_ids),
        customers=(
            None if body.customers is None else tuple(stored(item) for item in body.customers)
        ),
        first_customer=_flat_customer(body),
        customer_time_zone=body.customer_time_zone if "customer_time_zone" in sent else KEEP,
        pre_buffer=body.pre_buffer,
        post_buffer=body.post_buffer,
        details=details,
        cleared=frozenset(cleared),
    )


def calendar_window(start: str, end: str) -> Interval:
    first = parse_date_time_offset(start, "start")
    last = parse_date_time_offset(end, "end")
    if last <= first:
        raise InvalidInput("endBeforeStart", target="end", name="end", start="start")
    if last - first > MAX_VIEW_SPAN:
        raise InvalidInput(
            "rangeTooLong", target="end", name="end", what="a calendarView", days=MAX_VIEW_SPAN.days
        )
    return Interval(first, last)


# --- the booking service's rows -> Graph JSON ---------------------------------------------


def customer_json(
    customer: Mapping[str, Any], version: ApiVersion, sms_default: bool
) -> dict[str, Any]:
    shaped = nested(CustomerInformation, customer, version)
    # beta only: a customer who was given no smsNotificationsEnabled of their own gets
    # the appointment's, which says whether SMS go to its customers.
    if "smsNotificationsEnabled" in shaped and shaped["smsNotificationsEnabled"] is None:
        shaped["smsNotificationsEnabled"] = sms_default
    return {"@odata.type": CUSTOMER_TYPE, **shaped}


def _details(
    details: Mapping[str, Any], defaults: dict[str, Any], version: ApiVersion
) -> dict[str, Any]:
    shaped = {}
    for key, default in defaults.items():
        value = details.get(key, default)
        model = NESTED_DETAILS.get(key)
        shaped[key] = nested(model, value, version) if model is not None else value
    return shaped


def _times(start: datetime, end: datetime, version: ApiVersion) -> dict[str, Any]:
    """beta names the appointment's times start/end; v1.0 startDateTime/endDateTime."""
    if version == BETA:
        return {"start": date_time_time_zone(start), "end": date_time_time_zone(end)}
    return {"startDateTime": date_time_time_zone(start), "endDateTime": date_time_time_zone(end)}


def appointment_json(
    appointment: AppointmentView, version: ApiVersion, meeting: MeetingLinks | None = None
) -> dict[str, Any]:
    start, end = appointment.start_date_time, appointment.end_date_time
    details = _details(appointment.details, DETAIL_DEFAULTS, version)
    # The meeting's links, computed on every read: the provider's and the consumer's.
    details["joinWebUrl"] = meeting.staff_url if meeting is not None else None
    details["anonymousJoinWebUrl"] = meeting.consumer_url if meeting is not None else None
    customers = [
        customer_json(customer, version, details["smsNotificationsEnabled"])
        for customer in appointment.customers
    ]
    first = customers[0] if customers else {}
    body: dict[str, Any] = {
        "id": appointment.id,
        "selfServiceAppointmentId": appointment.id,
        "serviceId": appointment.service_id,
        "serviceName": appointment.display_name,
        **_times(start, end, version),
        "duration": format_duration(end - start),
        "preBuffer": format_duration(timedelta(seconds=appointment.pre_buffer_seconds)),
        "postBuffer": format_duration(timedelta(seconds=appointment.post_buffer_seconds)),
        "staffMemberIds": list(appointment.staff_member_ids),
        "customers": customers,
        "customerTimeZone": appointment.customer_time_zone,
        # The first customer, flat: both versions' CSDL keep these older properties.
        "customerName": first.get("name"),
        "customerEmailAddress": first.get("emailAddress"),
        "customerPhone": first.get("phone"),
        "customerNotes": first.get("notes"),
        "maximumAttendeesCount": appointment.maximum_attendees_count,
        "filledAttendeesCount": appointment.seats,
        **details,
        "createdDateTime": timestamp(appointment.created_date_time),
        "lastUpdatedDateTime": timestamp(appointment.last_updated_date_time),
    }
    if version == BETA:
        body.update(
            {
                "customerId": first.get("customerId"),
                "customerLocation": first.get("location"),
                "onlineMeetingUrl": details["joinWebUrl"],
                **_details(appointment.details, BETA_DETAIL_DEFAULTS, version),
            }
        )
    return body


def _entity_set(business_id: str, segment: str = "appointments") -> str:
    return f"solutions/bookingBusinesses({quote_key(business_id)})/{segment}"


def meeting_links(
    runtime: Runtime, appointments: tuple[AppointmentView, ...]
) -> Mapping[str, MeetingLinks]:
    """The links of those appointments that are online (one read, none when none is)."""
    online = [item.id for item in appointments if item.details.get("isLocationOnline") is True]
    if not online:
        return {}
    return links.appointment_links(runtime.db, runtime.secret_key, runtime.base_url, online)


def _entity(
    request: Request, runtime: Runtime, business_id: str, appointment: AppointmentView
) -> dict[str, Any]:
    meeting = meeting_links(runtime, (appointment,)).get(appointment.id)
    return {
        "@odata.context": context_url(request, f"{_entity_set(business_id)}/$entity"),
        **appointment_json(appointment, api_version(request), meeting),
    }


def _collection(
    request: Request,
    runtime: Runtime,
    caller: Caller,
    business_id: str,
    segment: str,
    window: Interval | None,
) -> dict[str, Any]:
    options = parse_options(request)
    page = appointment_queries.list_appointments(
        runtime.db,
        business_id,
        options.query,
        page_size=runtime.page_size,
        window=window,
        own_staff_id=caller.own_staff_id,
    )
    version = api_version(request)
    meetings = meeting_links(runtime, page.items)
    values = [appointment_json(item, version, meetings.get(item.id)) for item in page.items]
    context = context_url(request, _entity_set(business_id, segment))
    return collection(request, context, page, values, options)


# --- routes -------------------------------------------------------------------------------


@router.get("/appointments", responses={200: {"model": BookingAppointmentCollection}})
def list_appointments(
    request: Request, business_id: str, runtime: RuntimeDep, caller: Reader
) -> Any:
    """List booked appointments (cancelled ones are left out), by start time."""
    return _collection(request, runtime, caller, business_id, "appointments", None)


@router.get("/appointments/$count", response_class=PlainTextResponse)
def count_appointments(
    request: Request, business_id: str, runtime: RuntimeDep, caller: Reader
) -> PlainTextResponse:
    """Count booked appointments ($filter applies)."""
    return count_response(
        request,
        lambda query: appointment_queries.list_appointments(
            runtime.db, business_id, query, page_size=1, own_staff_id=caller.own_staff_id
        ),
    )


@router.post("/appointments", status_code=201, responses={201: {"model": BookingAppointmentOut}})
def create_appointment(
    request: Request,
    business_id: str,
    body: BookingAppointmentBody,
    runtime: RuntimeDep,
    caller: Writer,
    response: Response,
) -> Any:
    """Book an appointment (idempotent under Idempotency-Key or client-request-id)."""
    granted = authority(caller, request)
    key = idempotency_key(request)
    appointment = appointments.book(
        runtime.db,
        runtime.clock,
        business_id,
        appointments.new_request(changes(body)),
        authority=granted,
        idempotency_key=key,
        fingerprint=fingerprint(body) if key is not None else "",
    )
    response.headers.update(applied(granted))
    return _entity(request, runtime, business_id, appointment)


@router.get("/appointments/{appointment_id}", responses={200: {"model": BookingAppointmentOut}})
def get_appointment(
    request: Request,
    business_id: str,
    appointment_id: str,
    runtime: RuntimeDep,
    caller: Reader,
) -> Any:
    """Get an appointment (404 once cancelled); start and end are always in UTC."""
    options = parse_options(request)
    appointment = appointments.get_appointment(
        runtime.db, business_id, appointment_id, own_staff_id=caller.own_staff_id
    )
    return select_properties(_entity(request, runtime, business_id, appointment), options.select)


@router.patch("/appointments/{appointment_id}", status_code=204, response_class=Response)
def update_appointment(
    request: Request,
    business_id: str,
    appointment_id: str,
    body: BookingAppointmentBody,
    runtime: RuntimeDep,
    caller: Writer,
) -> Response:
    """Move, re-staff or edit an appointment under the same rules as booking it."""
    granted = authority(caller, request)
    appointments.update(
        runtime.db, runtime.clock, business_id, appointment_id, changes(body), authority=granted
    )
    return Response(status_code=204, headers=applied(granted))


@router.delete("/appointments/{appointment_id}", status_code=204, response_class=Response)
def delete_appointment(
    business_id: str, appointment_id: str, runtime: RuntimeDep, caller: Writer
) -> Response:
    """Delete an appointment and its record (cancel keeps the record)."""
    appointments.delete(
        runtime.db,
        runtime.clock,
        business_id,
        appointment_id,
        actor=caller.actor,
        documents=runtime.documents,
        own_staff_id=caller.own_staff_id,
    )
    return Response(status_code=204)


@router.post("/appointments/{appointment_id}/cancel", status_code=204, response_class=Response)
def cancel_appointment(
    request: Request,
    business_id: str,
    appointment_id: str,
    runtime: RuntimeDep,
    caller: Writer,
    body: CancelBody | None = None,
) -> Response:
    """Cancel: the time is freed and the record kept; 409 when already cancelled."""
    granted = authority(caller, request)
    message = body.cancellation_message if body is not None else None
    appointments.cancel(
        runtime.db, runtime.clock, business_id, appointment_id, message, authority=granted
    )
    return Response(status_code=204, headers=applied(granted))


@router.get("/calendarView", responses={200: {"model": BookingAppointmentCollection}})
def calendar_view(
    request: Request,
    business_id: str,
    runtime: RuntimeDep,
    caller: Reader,
    start: Annotated[
        str, Query(description="ISO 8601 with Z or an offset, e.g. 2026-05-01T00:00:00Z")
    ],
    end: Annotated[str, Query(description="ISO 8601 with Z or an offset; after start")],
) -> Any:
    """Booked appointments overlapping [start, end), by start time (at most 366 days)."""
    window = calendar_window(start, end)
    return _collection(request, runtime, caller, business_id, "calendarView", window)
