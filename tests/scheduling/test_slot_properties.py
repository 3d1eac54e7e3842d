"""Properties of slot generation over random hours, zones, policies, buffers and bookings.

Every scenario is built from whole minutes (zone offsets and transitions are whole
minutes too), so exact equality of instants is the right comparison throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from openvisit.scheduling.hours import MIDNIGHT, TimeRange, WorkingHours, working_intervals
from openvisit.scheduling.intervals import Interval, merge, subtract
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slots import Booking, ServiceSpec, Slot, StaffWork, available_slots

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "America/St_Johns",
        "Pacific/Chatham",
    )
]
# Days next to DST changes in the zones above (and one ordinary day).
BASE_DAYS = [
    date(2026, 1, 10),
    date(2026, 3, 7),
    date(2026, 3, 28),
    date(2026, 4, 4),
    date(2026, 9, 26),
    date(2026, 10, 3),
    date(2026, 10, 24),
    date(2026, 10, 31),
]
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
SERVICE_ID = "svc"


def minutes(n: int) -> timedelta:
    return n * MINUTE


def clock(minute_of_day: int) -> time:
    return time(minute_of_day // 60, minute_of_day % 60)


def midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Scenario:
    service: ServiceSpec
    policy: BookingPolicy
    hours: dict[str, WorkingHours]
    bookings: list[Booking]
    now: datetime
    window: Interval

    def slots(self, window: Interval | None = None, now: datetime | None = None) -> list[Slot]:
        window = window or self.window
        staff = [StaffWork(sid, working_intervals(h, window)) for sid, h in self.hours.items()]
        return available_slots(
            self.service, staff, self.bookings, self.policy, now=now or self.now, window=window
        )


# --- strategies ------------------------------------------------------------------------


@st.composite
def time_ranges(draw: st.DrawFn) -> TimeRange:
    start = draw(st.integers(0, 1439))
    end = min(start + draw(st.integers(1, 1440)), 1440)
    return TimeRange(clock(start), clock(end % 1440))


day_ranges = st.lists(time_ranges(), max_size=2)


@st.composite
def working_hours(draw: st.DrawFn, base: date) -> WorkingHours:
    zone = draw(st.sampled_from(ZONES))
    # Every weekday has hours; overrides (possibly empty) and time off close days.
    open_day = st.lists(time_ranges(), min_size=1, max_size=2)
    weekly = draw(st.fixed_dictionaries(dict.fromkeys(range(7), open_day)))
    dates = st.integers(-2, 5).map(lambda n: base + timedelta(days=n))
    overrides = draw(st.dictionaries(dates, day_ranges, max_size=2))
    origin = midnight(base, UTC)
    time_off = [
        Interval(origin + minutes(start), origin + minutes(start + length))
        for start, length in draw(
            st.lists(st.tuples(st.integers(-2880, 7200), st.integers(1, 1440)), max_size=2)
        )
    ]
    return WorkingHours(zone=zone, weekly=weekly, overrides=overrides, time_off=time_off)


def full_day(hours: WorkingHours, day: date) -> bool:
    ranges = hours.overrides.get(day, hours.weekly.get(day.weekday(), ()))
    reach = 0
    for item in sorted(ranges, key=lambda r: r.start):
        start = item.start.hour * 60 + item.start.minute
        end = 1440 if item.end == MIDNIGHT else item.end.hour * 60 + item.end.minute
        if start > reach:
            return False
        reach = max(reach, end)
    return reach == 1440


def round_the_clock(hours: WorkingHours, base: date) -> bool:
    """Open a whole week without a break: working_intervals follows a period for a week
    beyond the window and cuts it there, so the start of such a period (and the grid
    counted from it) depends on the window. A documented limit, left out here."""
    run = 0
    for offset in range(-20, 21):
        run = run + 1 if full_day(hours, base + timedelta(days=offset)) else 0
        if run >= 7:
            return True
    return False


def grid_starts(periods: Sequence[Interval], every: timedelta, length: timedelta) -> list[datetime]:
    found = []
    for period in merge(periods):
        start = period.start
        while start + length <= period.end:
            found.append(start)
            start += every
    return found


def tidy(bookings: list[Booking], capacity: int) -> list[Booking]:
    """Keep bookings so that one staff member's buffered ranges never overlap, except the
    attendees of one group sitting: what the database allows."""
    kept: list[Booking] = []
    for new in bookings:
        if all(
            new.staff_id != old.staff_id
            or not new.blocked.overlaps(old.blocked)
            or (
                capacity > 1
                and new.service_id == old.service_id == SERVICE_ID
                and (new.start, new.end) == (old.start, old.end)
            )
            for old in kept
        ):
            kept.append(new)
    return kept


@st.composite
def scenarios(draw: st.DrawFn, max_staff: int = 2) -> Scenario:
    base = draw(st.sampled_from(BASE_DAYS))
    service = ServiceSpec(
        SERVICE_ID,
        duration=minutes(draw(st.integers(5, 180))),
        pre_buffer=minutes(draw(st.integers(0, 30))),
        post_buffer=minutes(draw(st.integers(0, 30))),
        capacity=draw(st.integers(1, 5)),
    )
    lead = draw(st.integers(0, 3 * 1440))
    near_lead = st.integers(max(lead, 1440), max(lead, 1440) + 2880)  # the advance can bite
    policy = BookingPolicy(
        time_slot_interval=minutes(draw(st.integers(5, 120))),
        minimum_lead_time=minutes(lead),
        maximum_advance=minutes(draw(st.one_of(near_lead, st.integers(1440, 60 * 1440)))),
    )
    count = draw(st.integers(1, max_staff))
    hours = {f"staff{i}": draw(working_hours(base)) for i in range(count)}
    if count > 1 and draw(st.booleans()):  # colleagues on the same hours share slots
        hours["staff1"] = replace(
            hours["staff1"], zone=hours["staff0"].zone, weekly=hours["staff0"].weekly
        )
    assume(not any(round_the_clock(h, base) for h in hours.values()))

    # The window: some calendar days of a caller somewhere, or any minutes at all.
    if draw(st.booleans()):
        caller = draw(st.sampled_from(ZONES))
        first = base + timedelta(days=draw(st.integers(-1, 2)))
        days = draw(st.integers(1, 2))
        window = Interval(midnight(first, caller), midnight(first + timedelta(days=days), caller))
    else:
        start = midnight(base, UTC) + minutes(draw(st.integers(-1440, 2880)))
        window = Interval(start, start + minutes(draw(st.integers(1, 2880))))
    # Now, so that the lead time ends somewhere near the window (before, in or after it).
    now = window.start - policy.minimum_lead_time + minutes(draw(st.integers(-1440, 1440)))

    # Bookings: some exactly on grid slots (joinable group sittings), some anywhere.
    candidates: list[Booking] = []
    for staff_id, own in hours.items():
        grid = [
            start
            for start in grid_starts(
                working_intervals(own, window), policy.time_slot_interval, service.duration
            )
            if window.start <= start < window.end
        ]
        for pick, seats, same_buffers in draw(
            st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 3), st.booleans()), max_size=4)
        ):
            if not grid:
                break
            start = grid[pick % len(grid)]
            pre, post = (
                (service.pre_buffer, service.post_buffer)
                if same_buffers
                else (minutes(draw(st.integers(0, 30))), minutes(draw(st.integers(0, 30))))
            )
            candidates.append(
                Booking(staff_id, SERVICE_ID, start, start + service.duration, pre, post, seats)
            )
        for offset, length, service_id, pre, post, seats in draw(
            st.lists(
                st.tuples(
                    st.integers(-1440, 4320),
                    st.integers(5, 180),
                    st.sampled_from([SERVICE_ID, "other"]),
                    st.integers(0, 30),
                    st.integers(0, 30),
                    st.integers(1, 3),
                ),
                max_size=4,
            )
        ):
            start = window.start + minutes(offset)
            candidates.append(
                Booking(
                    staff_id,
                    service_id,
                    start,
                    start + minutes(length),
                    minutes(pre),
                    minutes(post),
                    seats,
                )
            )
    candidates = draw(st.permutations(candidates))
    # What the database allows, or messy data (an import): the rules hold either way.
    bookings = tidy(candidates, service.capacity) if draw(st.booleans()) else candidates
    return Scenario(service, policy, hours, bookings, now, window)


# --- the rules, checked directly -------------------------------------------------------


def group_mates(scenario: Scenario, staff_id: str, start: datetime) -> list[Booking]:
    """Bookings that a slot at `start` would join rather than collide with."""
    if scenario.service.capacity == 1:
        return []
    key = (start, start + scenario.service.duration)
    return [
        b
        for b in scenario.bookings
        if b.staff_id == staff_id and b.service_id == SERVICE_ID and (b.start, b.end) == key
    ]


def expected_seats(scenario: Scenario, staff_id: str, start: datetime) -> int:
    need = scenario.service.blocked(start)
    mates = group_mates(scenario, staff_id, start)
    for other in scenario.bookings:
        if other.staff_id == staff_id and other not in mates and other.blocked.overlaps(need):
            return 0
    return max(scenario.service.capacity - sum(b.seats for b in mates), 0)


def oracle(scenario: Scenario) -> set[tuple[datetime, str, int]]:
    """Walk each working period's grid and keep every start that every rule allows."""
    policy, window, now = scenario.policy, scenario.window, scenario.now
    if policy.minimum_lead_time >= policy.maximum_advance:
        return set()
    found = set()
    for staff_id, hours in scenario.hours.items():
        periods = working_intervals(hours, window)
        for start in grid_starts(periods, policy.time_slot_interval, scenario.service.duration):
            if not window.start <= start < window.end:
                continue
            if not now + policy.minimum_lead_time <= start <= now + policy.maximum_advance:
                continue
            seats = expected_seats(scenario, staff_id, start)
            if seats:
                found.add((start, staff_id, seats))
    return found


def independent_hours(hours: WorkingHours, around: datetime) -> list[Interval]:
    """The staff member's working time near `around`, rebuilt here from the weekly ranges
    (a skipped wall-clock time reads with the offset before the change, fold=0)."""
    local = around.astimezone(hours.zone).date()
    intervals = []
    for day in (local + timedelta(days=n) for n in range(-2, 3)):
        for item in hours.overrides.get(day, hours.weekly.get(day.weekday(), ())):
            end_day = day + timedelta(days=1) if item.end == MIDNIGHT else day
            start = datetime.combine(day, item.start, tzinfo=hours.zone).astimezone(UTC)
            end = datetime.combine(end_day, item.end, tzinfo=hours.zone).astimezone(UTC)
            if start < end:
                intervals.append(Interval(start, end))
    return subtract(merge(intervals), hours.time_off)


def within_wall_clock(hours: WorkingHours, instant: datetime) -> bool:
    """The local wall-clock time of `instant` lies in a range of its local date."""
    local = instant.astimezone(hours.zone)
    day, at = local.date(), local.time()
    ranges = hours.overrides.get(day, hours.weekly.get(day.weekday(), ()))
    return any(r.start <= at and (r.end == MIDNIGHT or at < r.end) for r in ranges)


def steady_offset(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """No UTC offset change within a day of [start, end]."""
    return len({t.astimezone(zone).utcoffset() for t in (start - DAY, start, end, end + DAY)}) == 1


# --- properties ------------------------------------------------------------------------


@PROPERTY
@given(scenarios())
def test_every_slot_obeys_every_rule_and_every_allowed_start_is_offered(scenario):
    note(repr(scenario))  # printed with a failing example
    service, policy, now = scenario.service, scenario.policy, scenario.now
    slots = scenario.slots()

    # Shape: sorted by start, one slot per start, each staff member at most once.
    assert [s.start for s in slots] == sorted({s.start for s in slots})
    for slot in slots:
        assert slot.end == slot.start + service.duration
        ids = [option.staff_id for option in slot.staff]
        assert ids == sorted(set(ids), key=list(scenario.hours).index)
        assert all(option.free_seats > 0 for option in slot.staff)

    for slot in slots:
        # (3) lead time and maximum advance, both ends included; the window half-open.
        assert now + policy.minimum_lead_time <= slot.start <= now + policy.maximum_advance
        assert scenario.window.start <= slot.start < scenario.window.end
        for option in slot.staff:
            hours = scenario.hours[option.staff_id]
            need = service.blocked(slot.start)
            # (1) no overlap with any booking's buffered range, except a sitting it joins.
            mates = group_mates(scenario, option.staff_id, slot.start)
            for other in scenario.bookings:
                if other.staff_id == option.staff_id and other not in mates:
                    assert not need.overlaps(other.blocked), (slot, other)
            assert option.free_seats == service.capacity - sum(b.seats for b in mates)
            # (2) inside working time, as working_intervals and the weekly ranges say.
            booked = Interval(slot.start, slot.end)
            assert any(p.contains(booked) for p in working_intervals(hours, scenario.window))
            assert any(p.contains(booked) for p in independent_hours(hours, slot.start))
            assert not any(booked.overlaps(off) for off in hours.time_off)
            if steady_offset(hours.zone, slot.start, slot.end):
                assert within_wall_clock(hours, slot.start)
                assert within_wall_clock(hours, slot.end - MINUTE)

    # (5) completeness: the engine offers exactly what the rules allow, with those seats.
    offered = {(s.start, o.staff_id, o.free_seats) for s in slots for o in s.staff}
    assert offered == oracle(scenario)
    describe(scenario, slots)


def describe(scenario: Scenario, slots: list[Slot]) -> None:
    """Label the example, so --hypothesis-show-statistics shows what the runs covered."""
    event("slots offered" if slots else "no slots")
    if any(o.free_seats < scenario.service.capacity for s in slots for o in s.staff):
        event("a slot joins a group sitting")
    grid = {
        (start, sid)
        for sid, hours in scenario.hours.items()
        for start in grid_starts(
            working_intervals(hours, scenario.window),
            scenario.policy.time_slot_interval,
            scenario.service.duration,
        )
        if scenario.window.start <= start < scenario.window.end
    }
    if any(expected_seats(scenario, sid, start) == 0 for start, sid in grid):
        event("a booking blocks a grid start")
    if any(
        not steady_offset(h.zone, scenario.window.start, scenario.window.end)
        for h in scenario.hours.values()
    ):
        event("an offset change near the window")
    if len(scenario.hours) > 1 and any(len(s.staff) > 1 for s in slots):
        event("a slot lists two staff members")


@PROPERTY
@given(scenarios(), st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_slots_do_not_depend_on_the_zone_the_caller_asks_in(scenario, z1, z2):
    note(repr(scenario))
    slots = scenario.slots()
    # (4a) The same instants written in other zones (every zone in turn, so lead time,
    # advance and buffers cross DST changes in the zone they are written in): same slots.
    for zone, other in zip(ZONES, ZONES[1:] + ZONES[:1], strict=True):
        rezoned = Interval(
            scenario.window.start.astimezone(zone), scenario.window.end.astimezone(other)
        )
        bookings = [
            replace(b, start=b.start.astimezone(zone), end=b.end.astimezone(other))
            for b in scenario.bookings
        ]
        again = replace(scenario, bookings=bookings).slots(rezoned, scenario.now.astimezone(zone))
        assert again == slots, zone

    # (4b) Calendar days asked for in two zones: where the two windows meet, the slots
    # match; and each is what a wider window offers inside it.
    first = scenario.window.start.astimezone(z1).date()
    in_z1 = Interval(midnight(first, z1), midnight(first + DAY, z1))
    in_z2 = Interval(midnight(first, z2), midnight(first + DAY, z2))
    windows = (in_z1, in_z2, scenario.window)
    wide = Interval(min(w.start for w in windows), max(w.end for w in windows))
    everything = scenario.slots(wide)
    for window in windows:
        inside = [s for s in everything if window.start <= s.start < window.end]
        assert scenario.slots(window) == inside
