"""Weekly working hours, date overrides and time off, expanded into UTC intervals.

Hours are wall-clock times in the owner's own time zone (a staff member's, or the
business's), so a shift from 08:00 to 16:00 stays 08:00-16:00 local on both sides of a
daylight-saving change even though its UTC instants move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from openvisit.scheduling.intervals import Interval, merge, subtract

MIDNIGHT = time(0, 0)
_REACH = timedelta(days=7)  # how far working_intervals follows a period past the window


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A local time range within one day; an end of 00:00 means the following midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end != MIDNIGHT and self.end <= self.start:
            raise ValueError(f"a time range must end after it starts: {self.start}-{self.end}")


@dataclass(frozen=True)
class WorkingHours:
    """Weekly hours (weekday 0 = Monday) in `zone`, with per-date overrides and time off.

    `overrides` replace the weekly hours of one local date (an empty tuple closes the
    day); `time_off` removes absolute ranges (holidays, sick leave) whatever the hours say.
    """

    zone: ZoneInfo
    weekly: Mapping[int, Sequence[TimeRange]]
    overrides: Mapping[date, Sequence[TimeRange]] = field(default_factory=dict)
    time_off: Sequence[Interval] = ()


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time, with the two DST edge cases decided.

    A time skipped by a spring-forward change (02:30 in New York) does not exist; it is
    read with the offset in force before the change, which lands on the instant the
    clock shows 03:30 - the shift starts late rather than vanishing. A time that occurs
    twice on a fall-back day is read as its first occurrence (fold=0).
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _day_intervals(day: date, ranges: Sequence[TimeRange], zone: ZoneInfo) -> list[Interval]:
    intervals = []
    for item in ranges:
        start = local_instant(day, item.start, zone)
        end_day = day + timedelta(days=1) if item.end == MIDNIGHT else day
        end = local_instant(end_day, item.end, zone)
        if start < end:  # a range inside a skipped hour can collapse to nothing
            intervals.append(Interval(start, end))
    return intervals


def working_intervals(hours: WorkingHours, window: Interval) -> list[Interval]:
    """Every UTC working period of `hours` that overlaps `window`, whole (not clipped).

    Slots count their grid from the start of a working period and may run past the end
    of the asked window, so a period keeps its real start and end whatever window a caller
    in whatever time zone asks for. Periods that run on across midnights (a night shift, a
    24-hour day) are followed for a week either side of the window; only one that stays
    open round the clock for longer than that is cut where that week ends.
    """
    first = window.start.astimezone(hours.zone).date() - _REACH
    last = window.end.astimezone(hours.zone).date() + _REACH
    intervals: list[Interval] = []
    day = first
    while day <= last:
        ranges = hours.overrides.get(day, hours.weekly.get(day.weekday(), ()))
        intervals.extend(_day_intervals(day, ranges, hours.zone))
        day += timedelta(days=1)
    periods = subtract(merge(intervals), hours.time_off)
    return [period for period in periods if period.overlaps(window)]
