"""onlineMeeting, virtualAppointment and the SMS actions' bodies, as requests write them.

onlineMeeting times are Edm.DateTimeOffset strings (`2026-05-01T12:00:00.0000000Z`, or
with an offset); one without an offset is read as UTC, as Graph reads it. Responses
write them in UTC with `Z`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from openvisit.graph.schemas.appointment import parse_date_time_time_zone
from openvisit.graph.schemas.types import (
    EmailAddress,
    GraphModel,
    PhoneNumber,
    ShortText,
    Text,
    TimeZoneName,
    WebUrl,
)


def _date_time_offset(value: Any) -> datetime:
    if isinstance(value, datetime):
        return parse_date_time_time_zone(value)
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time string such as 2026-05-01T12:00:00Z")
    # An offset inside the text wins; without one the time is UTC.
    return parse_date_time_time_zone({"dateTime": value, "timeZone": "UTC"})


DateTimeOffset = Annotated[
    datetime,
    BeforeValidator(_date_time_offset),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
ItemId = Annotated[str, Field(min_length=1, max_length=255)]


class Identity(GraphModel):
    id: ShortText | None = None
    display_name: ShortText | None = None


class IdentitySet(GraphModel):
    user: Identity | None = None
    guest: Identity | None = None
    phone: Identity | None = None
    application: Identity | None = None


class MeetingParticipantInfo(GraphModel):
    identity: IdentitySet | None = None
    role: (
        Literal["attendee", "presenter", "producer", "coorganizer", "unknownFutureValue"] | None
    ) = None
    upn: ShortText | None = None


class MeetingParticipants(GraphModel):
    """The organizer is the user the meeting is made for; one sent here is ignored."""

    organizer: MeetingParticipantInfo | None = None
    attendees: Annotated[list[MeetingParticipantInfo], Field(max_length=50)] | None = None


class LobbyBypassSettings(GraphModel):
    scope: (
        Literal[
            "organizer",
            "organization",
            "organizationAndFederated",
            "everyone",
            "unknownFutureValue",
            "invited",
            "organizationExcludingGuest",
        ]
        | None
    ) = None
    is_dial_in_bypass_enabled: bool | None = None


class OnlineMeetingBody(GraphModel):
    """A create, createOrGet or PATCH request. joinWebUrl, joinUrl, chatInfo and the
    creation time are the server's: sent, they are ignored."""

    subject: Text | None = None
    start_date_time: DateTimeOffset | None = None
    end_date_time: DateTimeOffset | None = None
    external_id: ItemId | None = Field(default=None, description="Required by createOrGet.")
    participants: MeetingParticipants | None = None
    lobby_bypass_settings: LobbyBypassSettings | None = None
    allowed_presenters: (
        Literal["everyone", "organization", "roleIsPresenter", "organizer", "unknownFutureValue"]
        | None
    ) = None
    is_entry_exit_announced: bool | None = None
    allow_meeting_chat: Literal["enabled", "disabled", "limited", "unknownFutureValue"] | None = (
        None
    )


class AttendeeNotificationInfo(GraphModel):
    phone_number: Annotated[str, Field(min_length=1, max_length=64)]
    time_zone: TimeZoneName | None = None


SmsAttendees = Annotated[list[AttendeeNotificationInfo], Field(min_length=1, max_length=50)]


class VirtualAppointmentSmsBody(GraphModel):
    attendees: SmsAttendees
    message_type: Literal["confirmation", "reschedule", "cancellation", "unknownFutureValue"]


class VirtualAppointmentReminderSmsBody(GraphModel):
    attendees: SmsAttendees
    remind_before_time_in_minutes_type: Literal[
        "mins15", "mins30", "mins60", "mins120", "mins1440", "unknownFutureValue"
    ]


class VirtualAppointmentUser(GraphModel):
    display_name: ShortText | None = None
    email_address: EmailAddress | None = None
    phone: PhoneNumber | None = None
    sms_capable_phone_number: PhoneNumber | None = None
    time_zone: TimeZoneName | None = None


class AppointmentReminderInfo(GraphModel):
    reminder_before_time_in_minutes_type: ShortText | None = None


class VirtualAppointmentSettings(GraphModel):
    allow_client_to_join_using_browser: bool | None = None
    appointment_reminders_info: (
        Annotated[list[AppointmentReminderInfo], Field(max_length=10)] | None
    ) = None


class VirtualAppointmentBody(GraphModel):
    """PUT (the whole resource) or PATCH (the sent properties)."""

    appointment_clients: Annotated[list[VirtualAppointmentUser], Field(max_length=20)] | None = None
    external_appointment_id: ItemId | None = None
    external_appointment_url: WebUrl | None = None
    settings: VirtualAppointmentSettings | None = None


class GetJoinWebUrlOut(GraphModel):
    value: str = Field(examples=["https://visit.example/join/eyJ..."])


class OnlineMeetingOut(GraphModel):
    """What GET returns (documented keys; participants and settings as sent)."""

    id: str
    subject: str | None
    start_date_time: str
    end_date_time: str
    creation_date_time: str
    join_web_url: str
    join_url: str
    external_id: str | None
    allowed_presenters: str
    allow_meeting_chat: str
    is_entry_exit_announced: bool
    lobby_bypass_settings: LobbyBypassSettings
    participants: MeetingParticipants


class OnlineMeetingCollection(GraphModel):
    value: list[OnlineMeetingOut]
