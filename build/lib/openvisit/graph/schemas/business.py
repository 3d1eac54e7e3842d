"""bookingBusiness."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from pydantic import Field, field_validator

from openvisit.graph.schemas.complex import (
    BookingPageSettings,
    PhysicalAddress,
    SchedulingPolicy,
    WeekHours,
    WorkHours,
    WorkTimeSlot,
    check_unique_days,
)
from openvisit.graph.schemas.types import (
    CurrencyCode,
    EmailAddress,
    GraphModel,
    LanguageTag,
    Name,
    PhoneNumber,
    ShortText,
    WebUrl,
)

# Bookings' own defaults for a new business: weekdays 08:00-17:00, 30-minute slots.
DEFAULT_HOURS = [
    WorkHours(day=day, time_slots=[WorkTimeSlot(start_time=time(8), end_time=time(17))])
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
] + [WorkHours(day=day, time_slots=[]) for day in ("saturday", "sunday")]
DEFAULT_POLICY = SchedulingPolicy(
    time_slot_interval=timedelta(minutes=30), minimum_lead_time=timedelta(0),
    maximum_advance=timedelta(days=365), send_confirmations_to_owner=True,
    allow_staff_selection=True,
)


class BookingBusinessBody(GraphModel):
    """Writable properties of a bookingBusiness; read-only ones in a request are ignored."""

    display_name: Name | None = Field(default=None, description="Required on create.")
    business_type: ShortText | None = None
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    web_site_url: WebUrl | None = None
    default_currency_iso: CurrencyCode | None = None
    language_tag: LanguageTag | None = None
    address: PhysicalAddress | None = None
    business_hours: WeekHours | None = None
    scheduling_policy: SchedulingPolicy | None = None
    booking_page_settings: BookingPageSettings | None = None

    @field_validator("business_hours")
    @classmethod
    def _unique_days(cls, value: list[WorkHours] | None) -> list[WorkHours] | None:
        check_unique_days(value)
        return value


class BookingBusinessOut(GraphModel):
    """A bookingBusiness as returned (for the OpenAPI document)."""

    id: str
    display_name: str
    business_type: str | None = None
    email: str | None = None
    phone: str | None = None
    web_site_url: str | None = None
    default_currency_iso: str | None = None
    language_tag: str | None = None
    is_published: bool | None = None
    public_url: str | None = None
    address: PhysicalAddress | None = None
    business_hours: list[WorkHours] | None = None
    scheduling_policy: SchedulingPolicy | None = None
    booking_page_settings: BookingPageSettings | None = None
    created_date_time: str | None = None
    last_updated_date_time: str | None = None


class BookingBusinessCollection(GraphModel):
    value: list[BookingBusinessOut]


def business_defaults() -> dict[str, Any]:
    return {"business_hours": DEFAULT_HOURS, "scheduling_policy": DEFAULT_POLICY,
            "default_currency_iso": "USD"}
