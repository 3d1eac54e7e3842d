"""What services hand back: frozen snapshots of stored records, taken inside the transaction.

A transport renders a view after the session has closed, so a view carries every value it
needs and nothing that could load more or be written back: no session, no lazy attribute,
no setter. Graph documents kept as JSON (hours, policies, addresses, reminders) stay in
their stored camelCase shape, typed as read-only mappings; lists become tuples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

V = TypeVar("V", bound="DataclassInstance")
JsonDocument = Mapping[str, Any]


def snapshot(view: type[V], row: object) -> V:
    """Copy the row's values that `view` names; called while the row's session is open."""
    return view(**{field.name: _frozen(getattr(row, field.name)) for field in fields(view)})


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True, slots=True)
class BusinessView:
    id: str
    display_name: str
    business_type: str | None
    email: str | None
    phone: str | None
    web_site_url: str | None
    default_currency_iso: str
    language_tag: str | None
    is_published: bool
    address: JsonDocument | None
    business_hours: tuple[JsonDocument, ...]
    scheduling_policy: JsonDocument | None
    booking_page_settings: JsonDocument | None
    created_date_time: datetime
    last_updated_date_time: datetime


@dataclass(frozen=True, slots=True)
class ChildView:
    """What every resource inside a business carries (see `store.models.BusinessChild`)."""

    id: str
    business_id: str
    display_name: str
    created_date_time: datetime
    last_updated_date_time: datetime


@dataclass(frozen=True, slots=True)
class ServiceView(ChildView):
    description: str | None
    notes: str | None
    additional_information: str | None
    default_duration_seconds: int
    pre_buffer_seconds: int
    post_buffer_seconds: int
    default_price: float
    default_price_type: str
    default_location: JsonDocument | None
    default_reminders: tuple[JsonDocument, ...]
    custom_questions: tuple[JsonDocument, ...]
    staff_member_ids: tuple[str, ...]
    scheduling_policy: JsonDocument | None
    is_location_online: bool
    is_anonymous_join_enabled: bool
    is_customer_allowed_to_manage_booking: bool
    is_hidden_from_customers: bool
    sms_notifications_enabled: bool
    language_tag: str | None
    maximum_attendees_count: int
    change_cutoff_seconds: int


@dataclass(frozen=True, slots=True)
class StaffMemberView(ChildView):
    email_address: str | None
    role: str
    time_zone: str | None
    use_business_hours: bool
    working_hours: tuple[JsonDocument, ...]
    is_email_notification_enabled: bool
    availability_is_affected_by_personal_calendar: bool
    membership_status: str
    color_index: int


@dataclass(frozen=True, slots=True)
class CustomerView(ChildView):
    email_address: str | None
    phones: tuple[JsonDocument, ...]
    addresses: tuple[JsonDocument, ...]


@dataclass(frozen=True, slots=True)
class CustomQuestionView(ChildView):
    answer_input_type: str
    answer_options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppointmentView(ChildView):
    """`display_name` is the service's name at booking time."""

    service_id: str | None
    start_date_time: datetime
    end_date_time: datetime
    pre_buffer_seconds: int
    post_buffer_seconds: int
    blocked_start: datetime  # start less the pre-buffer: the staff's time is held from here
    blocked_end: datetime
    staff_member_ids: tuple[str, ...]
    customers: tuple[JsonDocument, ...]
    customer_time_zone: str | None
    seats: int
    maximum_attendees_count: int
    details: JsonDocument
    status: str
    cancellation_message: str | None
    cancelled_date_time: datetime | None
    ical_sequence: int
    link_version: int
    customer_language: str | None
