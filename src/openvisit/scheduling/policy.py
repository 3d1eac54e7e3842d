"""When customers may book: the scheduling policy of a business or a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openvisit.scheduling.intervals import Interval


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """Graph's bookingSchedulingPolicy, as the engine uses it.

    - `time_slot_interval`: slots start every interval from the start of each working
      period, so a 30-minute grid offers 08:00, 08:30... when work starts at 08:00.
    - `minimum_lead_time`: no slot starts sooner than this after now, so staff are not
      surprised by a booking they cannot prepare for.
    - `maximum_advance`: no slot starts later than this after now, so the calendar does
      not fill up beyond what the business plans for.
    - `allow_staff_selection`: customers may pick a staff member; otherwise the service
      assigns one.
    """

    time_slot_interval: timedelta = timedelta(minutes=30)
    minimum_lead_time: timedelta = timedelta(0)
    maximum_advance: timedelta = timedelta(days=365)
    allow_staff_selection: bool = True

    def __post_init__(self) -> None:
        if self.time_slot_interval <= timedelta(0):
            raise ValueError("time_slot_interval must be positive")
        if self.minimum_lead_time < timedelta(0) or self.maximum_advance <= timedelta(0):
            raise ValueError("lead time must not be negative and maximum advance positive")

    def start_window(self, now: datetime) -> Interval | None:
        """Instants at which a slot may start, the end included (no later than now +
        maximum advance); None when the lead time is not shorter than the advance."""
        now = now.astimezone(UTC)  # lead time and advance are real time, not wall clock
        earliest, latest = now + self.minimum_lead_time, now + self.maximum_advance
        return Interval(earliest, latest) if earliest < latest else None
