"""What the meetings services hand back: frozen snapshots taken inside the transaction.

As in bookings/views.py, a view carries every value a transport renders and nothing
that could load more or be written back. Graph documents kept as JSON stay in their
stored camelCase shape.
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

SCHEDULED = "scheduled"
ENDED = "ended"
CANCELLED = "cancelled"


def snapshot(view: type[V], row: object) -> V:
    """Copy the row's values that `view` names; called while the row's session is open."""
    return view(**{field.name: getattr(row, field.name) for field in fields(view)})


@dataclass(frozen=True, slots=True)
class MeetingView:
    """An online meeting; `properties` holds the Graph properties without a column."""

    id: str
    organizer_user_id: str | None
    business_id: str | None
    appointment_id: str | None
    external_id: str | None
    subject: str | None
    start_date_time: datetime
    end_date_time: datetime
    created_date_time: datetime
    properties: JsonDocument
    virtual_appointment: JsonDocument | None
    link_version: int
    status: str

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


@dataclass(frozen=True, slots=True)
class MeetingLinks:
    """The three links of a meeting: the provider's, the consumer's and the device check."""

    meeting_id: str
    staff_url: str
    consumer_url: str
    device_check_url: str


@dataclass(frozen=True, slots=True)
class AttendanceInterval:
    join: datetime
    leave: datetime | None  # None: still in the call
    seconds: int


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    """One participant's presence in one sitting of the call (Graph's attendanceRecord)."""

    id: str
    email_address: str | None
    identity_id: str
    display_name: str
    role: str  # Organizer | Presenter | Attendee
    total_seconds: int
    intervals: tuple[AttendanceInterval, ...]


@dataclass(frozen=True, slots=True)
class AttendanceReport:
    """One sitting of the call (Graph's meetingAttendanceReport)."""

    id: str
    total_participant_count: int
    start: datetime
    end: datetime | None
    records: tuple[AttendanceRecord, ...]
