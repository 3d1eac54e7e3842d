"""Graph complex types used inside Bookings resources."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, model_validator

from openvisit.graph.schemas.types import (
    Duration,
    EmailAddress,
    GraphModel,
    HexColor,
    Name,
    PhoneNumber,
    ShortText,
    Text,
    TimeOfDay,
    TimeZoneName,
    WebUrl,
    duration_at_most,
)
from openvisit.graph.schemas.versions import Versioned

DayOfWeek = Literal["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
MIDNIGHT = time(0, 0)


class PhysicalAddress(Versioned):
    # postOfficeBox and type are beta members; Bookings' v1.0 request examples send them
    # too, so they are read and kept under both roots.
    BETA_ONLY = frozenset({"type", "postOfficeBox"})

    street: ShortText | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    country_or_region: ShortText | None = None
    postal_code: Annotated[str, Field(max_length=40)] | None = None
    type: Literal["unknown", "home", "business", "other"] | None = None
    post_office_box: ShortText | None = None


class Phone(Versioned):
    V1_ONLY = frozenset({"language", "region"})

    number: PhoneNumber | None = None
    type: (
        Literal[
            "home",
            "business",
            "mobile",
            "other",
            "assistant",
            "homeFax",
            "businessFax",
            "otherFax",
            "pager",
            "radio",
        ]
        | None
    ) = None
    language: Annotated[str, Field(max_length=35)] | None = None
    region: Annotated[str, Field(max_length=35)] | None = None


class WorkTimeSlot(Versioned):
    """bookingWorkTimeSlot: v1.0 names its members startTime/endTime, beta start/end.

    Either pair is read under both roots, so a body written for one works on the other.
    """

    BETA_NAMES = {"startTime": "start", "endTime": "end"}

    start_time: Annotated[TimeOfDay, Field(validation_alias=AliasChoices("startTime", "start"))]
    end_time: Annotated[TimeOfDay, Field(validation_alias=AliasChoices("endTime", "end"))]

    @model_validator(mode="after")
    def _ordered(self) -> WorkTimeSlot:
        # An end of 00:00 means midnight at the end of the day, as Bookings writes it.
        if self.end_time != MIDNIGHT and self.end_time <= self.start_time:
            raise ValueError("a time slot must end later than it starts")
        return self


class WorkHours(GraphModel):
    day: DayOfWeek
    time_slots: Annotated[list[WorkTimeSlot], Field(max_length=24)] = []

    @model_validator(mode="after")
    def _no_overlap(self) -> WorkHours:
        spans = sorted(
            (slot.start_time, slot.end_time if slot.end_time != MIDNIGHT else time.max)
            for slot in self.time_slots
        )
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise ValueError(f"time slots on {self.day} overlap")
        return self


WeekHours = Annotated[list[WorkHours], Field(max_length=7)]


def check_unique_days(hours: list[WorkHours] | None) -> None:
    days = [item.day for item in hours or []]
    if len(days) != len(set(days)):
        raise ValueError("each day may appear once")


AvailabilityType = Literal[
    "bookWhenStaffAreFree", "notBookable", "customWeeklyHours", "unknownFutureValue"
]


class BookingsAvailability(GraphModel):
    availability_type: AvailabilityType | None = None
    business_hours: WeekHours = []


class BookingsAvailabilityWindow(BookingsAvailability):
    # Edm.Date arrives as a "2026-01-31" string; strict models would refuse any string.
    start_date: Annotated[date, Field(strict=False)] | None = None
    end_date: Annotated[date, Field(strict=False)] | None = None


class SchedulingPolicy(GraphModel):
    time_slot_interval: (
        Annotated[Duration, duration_at_most(timedelta(days=1), positive=True)] | None
    ) = None
    minimum_lead_time: Annotated[Duration, duration_at_most(timedelta(days=365))] | None = None
    maximum_advance: (
        Annotated[Duration, duration_at_most(timedelta(days=730), positive=True)] | None
    ) = None
    send_confirmations_to_owner: bool | None = None
    allow_staff_selection: bool | None = None
    is_meeting_invite_to_customers_enabled: bool | None = None
    general_availability: BookingsAvailability | None = None
    custom_availabilities: (
        Annotated[list[BookingsAvailabilityWindow], Field(max_length=100)] | None
    ) = None


class BookingPageSettings(GraphModel):
    access_control: (
        Literal["unrestricted", "restrictedToOrganization", "unknownFutureValue"] | None
    ) = None
    booking_page_color_code: HexColor | None = None
    business_time_zone: TimeZoneName | None = None
    customer_consent_message: Text | None = None
    enforce_one_time_password: bool | None = None
    is_business_logo_display_enabled: bool | None = None
    is_customer_consent_enabled: bool | None = None
    is_search_engine_indexability_disabled: bool | None = None
    is_time_slot_time_zone_set_to_business_time_zone: bool | None = None
    privacy_policy_web_url: WebUrl | None = None
    terms_and_conditions_web_url: WebUrl | None = None


class Reminder(GraphModel):
    message: Text
    offset: Annotated[Duration, duration_at_most(timedelta(days=60))]
    recipients: Literal["allAttendees", "staff", "customer", "unknownFutureValue"]


class QuestionAssignment(GraphModel):
    question_id: Name
    is_required: bool = False


class OutlookGeoCoordinates(GraphModel):
    accuracy: float | None = None
    altitude: float | None = None
    altitude_accuracy: float | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class Location(Versioned):
    # Graph answers an address and coordinates whose members are null where none were
    # given (its examples, and what clients index into without a null check).
    WHOLE = {"address": PhysicalAddress, "coordinates": OutlookGeoCoordinates}

    display_name: ShortText | None = None
    location_email_address: EmailAddress | None = None
    address: PhysicalAddress | None = None
    coordinates: OutlookGeoCoordinates | None = None
    location_uri: Annotated[str, Field(max_length=2048)] | None = None
    location_type: (
        Literal[
            "default",
            "conferenceRoom",
            "homeAddress",
            "businessAddress",
            "geoCoordinates",
            "streetAddress",
            "hotel",
            "restaurant",
            "localBusiness",
            "postalAddress",
        ]
        | None
    ) = None
    unique_id: ShortText | None = None
    unique_id_type: Literal["unknown", "locationStore", "directory", "private", "bing"] | None = (
        None
    )
