"""Free starts of a service counted across staff: each start once, with how many are free.

The same rules as slots.py (grid from the start of each working period, lead time,
maximum advance, buffers, group sittings), computed a different way so that hundreds of
staff over a month cost milliseconds, not seconds:

- Times are whole microseconds since the epoch (ints), not datetimes: exact, and an
  order of magnitude cheaper to compare and add.
- For each staff member the starts that are free form a few closed ranges: a working
  period's range of possible starts minus, for every busy range [b0, b1), the open range
  (b0 - duration - post-buffer, b1 + pre-buffer) of starts whose buffered time would
  meet it. Only the ends of those ranges are recorded (+1 at the first grid start, -1
  after the last); one sweep over the ends then counts every start at once.
- Grids of different staff may not line up (a shift starting 09:10 on a 15-minute grid),
  so the sweep runs once per grid phase (start modulo the interval) and the phases are
  merged at the end.
- A group sitting of this service is free at its own start and time only (with the
  seats it has left); it blocks every other start like any booking. Sittings are few,
  so they are checked one by one.

slots.py stays the reference: tests/scheduling/test_slot_counts.py checks that both
agree on random staff, hours and bookings.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from openvisit.scheduling.intervals import Interval, merge
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slots import Booking, ServiceSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    """Whole microseconds since the epoch: exact for any aware datetime."""
    return (instant - EPOCH) // _US


def instant(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class StaffTime:
    """One staff member's bookable time and busy time for the asked window.

    `working` is their bookable periods (UTC). `blocked` holds the buffered range of
    every booking that is not a sitting of the listed service, as (start, end) in
    microseconds since the epoch (`micros`): tens of thousands of them come straight
    from the database that way. `sittings` are the bookings of the listed service when
    it seats more than one (empty otherwise).
    Staff with the same hours may share one `working` sequence: it is prepared once.
    """

    staff_id: str
    working: Sequence[Interval]
    blocked: Sequence[tuple[int, int]]
    sittings: Sequence[Booking] = ()


@dataclass(frozen=True, slots=True)
class StartCount:
    """One start: how many staff are free, the seats they have, the most one booking gets.

    For a one-seat service `free_seats == free_staff` and `largest_party == 1`.
    """

    start: datetime
    free_staff: int
    free_seats: int
    largest_party: int
    staff_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Rules:
    duration: int
    pre: int
    post: int
    step: int
    first: int  # earliest start: window start, lead time
    last: int  # latest start, inclusive: window end (exclusive, so minus 1), advance


def count_starts(
    service: ServiceSpec,
    staff: Iterable[StaffTime],
    policy: BookingPolicy,
    *,
    now: datetime,
    window: Interval,
    with_staff_ids: bool = False,
) -> list[StartCount]:
    """Every start in `window` at which at least one staff member is free, sorted."""
    starts = policy.start_window(now)
    if starts is None:
        return []
    rules = _Rules(
        duration=service.duration // _US,
        pre=service.pre_buffer // _US,
        post=service.post_buffer // _US,
        step=policy.time_slot_interval // _US,
        first=micros(max(window.start, starts.start)),
        last=min(micros(window.end) - 1, micros(starts.end)),
    )
    periods: dict[int, list[_Period]] = {}
    # phase -> time -> change in the number of free staff (used without staff ids)
    changes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[int, list[str]] = defaultdict(list)  # start -> staff (with staff ids)
    partial: dict[int, list[int]] = defaultdict(list)  # start -> seats left in sittings
    for member in staff:
        key = id(member.working)
        if key not in periods:
            periods[key] = _periods(rules, member.working)
        forbidden = _forbidden(rules, member)
        for first, last in _free_ranges(rules, periods[key], forbidden):
            if with_staff_ids:
                for start in range(first, last + 1, rules.step):
                    names[start].append(member.staff_id)
            else:
                phase = changes[first % rules.step]
                phase[first] += 1
                phase[last + rules.step] -= 1
        for start, seats in _open_sittings(rules, service, periods[key], member):
            partial[start].append(seats)
            if with_staff_ids:
                names[start].append(member.staff_id)
    if with_staff_ids:
        full = {start: len(ids) - len(partial.get(start, ())) for start, ids in names.items()}
    else:
        full = dict(_sweep(changes, rules.step))
    return _combine(service.capacity, full, names, partial)


def _forbidden(rules: _Rules, member: StaffTime) -> list[tuple[int, int]]:
    """Merged open ranges of starts whose buffered time meets some busy time."""
    blocked = [*member.blocked, *(_blocked(sitting) for sitting in member.sittings)]
    return _merged(_starts_meeting(rules, blocked))


def _blocked(booking: Booking) -> tuple[int, int]:
    return micros(booking.blocked.start), micros(booking.blocked.end)


def _starts_meeting(rules: _Rules, blocked: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each busy range, the open range of starts whose buffered time would meet it."""
    before, after = rules.duration + rules.post, rules.pre
    return [(start - before, end + after) for start, end in blocked]


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        # Open ranges that only touch leave the shared end free: (a, b) and (b, c) keep b.
        if merged and low < merged[-1][1]:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


@dataclass(frozen=True, slots=True)
class _Period:
    """A working period: its grid's anchor, its first allowed start (on grid), its last."""

    anchor: int
    low: int
    high: int


def _periods(rules: _Rules, working: Sequence[Interval]) -> list[_Period]:
    """The periods in which the rules allow some start; prepared once per shared hours."""
    found = []
    for period in merge(working):
        anchor = low = micros(period.start)
        if low < rules.first:
            low += -(-(rules.first - anchor) // rules.step) * rules.step
        high = min(micros(period.end) - rules.duration, rules.last)
        if low <= high:
            found.append(_Period(anchor, low, high))
    return found


def _free_ranges(
    rules: _Rules, periods: Sequence[_Period], forbidden: Sequence[tuple[int, int]]
) -> Iterable[tuple[int, int]]:
    """(first, last) on-grid free starts of one staff member, period by period."""
    step, count = rules.step, len(forbidden)
    j = 0
    for period in periods:
        anchor, cursor, high = period.anchor, period.low, period.high
        while j < count and forbidden[j][1] <= cursor:
            j += 1
        k = j
        while cursor <= high:
            if k < count and forbidden[k][0] < cursor:
                # Inside a forbidden range: the next candidate is its (open) end, on grid.
                cursor = forbidden[k][1] + (anchor - forbidden[k][1]) % step
                k += 1
                continue
            stop = forbidden[k][0] if k < count and forbidden[k][0] < high else high
            # The cursor is free and on grid, so this range holds at least the cursor.
            yield cursor, stop - (stop - anchor) % step
            if k >= count:
                break
            cursor = forbidden[k][1] + (anchor - forbidden[k][1]) % step
            k += 1


def _open_sittings(
    rules: _Rules, service: ServiceSpec, periods: Sequence[_Period], member: StaffTime
) -> Iterable[tuple[int, int]]:
    """Starts of this service's sittings that still have seats and are bookable."""
    if not member.sittings or service.capacity == 1:
        return
    taken: dict[tuple[int, int], int] = defaultdict(int)
    closed: list[tuple[tuple[int, int], tuple[int, int]]] = []  # sitting -> starts it closes
    for sitting in member.sittings:
        key = (micros(sitting.start), micros(sitting.end))
        taken[key] += sitting.seats
        closed.append((key, _starts_meeting(rules, [_blocked(sitting)])[0]))
    busy = _merged(_starts_meeting(rules, member.blocked))
    lows = [low for low, _high in busy]
    for (start, end), seats in sorted(taken.items()):
        free = service.capacity - seats
        if free <= 0 or end - start != rules.duration:
            continue
        if not any(_on_grid(rules, period, start) for period in periods):
            continue
        # Merged ranges do not overlap: only the last one opening before `start` can hold it.
        index = bisect_left(lows, start) - 1
        if index >= 0 and start < busy[index][1]:
            continue
        if any(low < start < high for key, (low, high) in closed if key != (start, end)):
            continue
        yield start, free


def _on_grid(rules: _Rules, period: _Period, start: int) -> bool:
    return period.low <= start <= period.high and (start - period.anchor) % rules.step == 0


def _sweep(changes: dict[int, dict[int, int]], step: int) -> Iterable[tuple[int, int]]:
    """(start, free staff) for every start with someone free, phase by phase."""
    for phase in changes.values():
        times = sorted(phase)
        running = 0
        for here, following in pairwise(times):
            running += phase[here]
            if running > 0:
                for start in range(here, following, step):
                    yield start, running


def _combine(
    capacity: int,
    full: dict[int, int],
    names: dict[int, list[str]],
    partial: dict[int, list[int]],
) -> list[StartCount]:
    """One StartCount per start: `full` staff free with every seat, `partial` sittings."""
    counts: list[StartCount] = []
    for start in sorted({*full, *partial}):
        fresh, sittings = full.get(start, 0), partial.get(start, ())
        counts.append(
            StartCount(
                start=instant(start),
                free_staff=fresh + len(sittings),
                free_seats=fresh * capacity + sum(sittings),
                largest_party=capacity if fresh else max(sittings),
                staff_ids=tuple(names.get(start, ())),
            )
        )
    return counts
