"""Half-open time intervals [start, end) over aware UTC datetimes, and their algebra.

Availability is built from these four operations (merge, intersect, subtract, clip), the
way cal.com's date-ranges do it: working hours become intervals, busy time is subtracted,
and slots are cut from what is left. Inputs to `intersect` and `subtract` may be in any
order and may overlap; every function returns a sorted list of disjoint intervals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, order=True, slots=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("intervals take aware datetimes only")
        # Held in UTC whatever zone they come in: datetimes that share a ZoneInfo compare
        # and subtract by wall clock, which is wrong across a DST change.
        if self.start.tzinfo is not UTC:
            object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.end.tzinfo is not UTC:
            object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"an interval must end after it starts: {self.start} .. {self.end}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True when the two share some instant (touching ends do not overlap)."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and coalesce: overlapping or touching intervals become one."""
    ordered = sorted(intervals)
    merged: list[Interval] = []
    for item in ordered:
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    return merged


def intersect(left: Iterable[Interval], right: Iterable[Interval]) -> list[Interval]:
    """The instants that lie in both sets."""
    a, b = merge(left), merge(right)
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if start < end:
            result.append(Interval(start, end))
        if a[i].end <= b[j].end:
            i += 1
        else:
            j += 1
    return result


def subtract(source: Iterable[Interval], removed: Iterable[Interval]) -> list[Interval]:
    """The instants of `source` that lie in none of `removed`."""
    holes = merge(removed)
    result: list[Interval] = []
    j = 0
    for item in merge(source):
        cursor = item.start
        while j < len(holes) and holes[j].end <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k].start < item.end:
            if holes[k].start > cursor:
                result.append(Interval(cursor, holes[k].start))
            cursor = max(cursor, holes[k].end)
            k += 1
        if cursor < item.end:
            result.append(Interval(cursor, item.end))
    return result


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of `intervals` inside `window`."""
    return intersect(intervals, [window])
