"""The compact slot listing agrees with the slot generator, start by start.

slots.py is the reference the booking path is proven against (test_slot_properties.py);
slot_counts.py computes the same starts another way, so the two must never differ: the
same starts, the same free staff, the same seats.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from openvisit.scheduling.hours import working_intervals
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slot_counts import StaffTime, count_starts, micros
from openvisit.scheduling.slots import Booking, ServiceSpec
from tests.scheduling.test_slot_properties import PROPERTY, Scenario, scenarios

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, no DST anywhere near


def staff_times(scenario: Scenario) -> list[StaffTime]:
    service = scenario.service
    found = []
    for staff_id, hours in scenario.hours.items():
        own = [b for b in scenario.bookings if b.staff_id == staff_id]
        grouped = service.capacity > 1
        sittings = [b for b in own if grouped and b.service_id == service.id]
        blocked = [
            (micros(b.blocked.start), micros(b.blocked.end))
            for b in own
            if not (grouped and b.service_id == service.id)
        ]
        found.append(
            StaffTime(staff_id, working_intervals(hours, scenario.window), blocked, sittings)
        )
    return found


@PROPERTY
@given(scenarios(max_staff=3))
def test_every_start_and_count_matches_the_slot_generator(scenario: Scenario) -> None:
    slots = scenario.slots()
    staff = staff_times(scenario)

    counted = count_starts(
        scenario.service, staff, scenario.policy, now=scenario.now, window=scenario.window
    )
    named = count_starts(
        scenario.service,
        staff,
        scenario.policy,
        now=scenario.now,
        window=scenario.window,
        with_staff_ids=True,
    )

    expected = [
        (
            slot.start,
            len(slot.staff),
            sum(option.free_seats for option in slot.staff),
            slot.free_seats,
        )
        for slot in slots
    ]
    assert [(c.start, c.free_staff, c.free_seats, c.largest_party) for c in counted] == expected
    assert [(c.start, c.free_staff, c.free_seats, c.largest_party) for c in named] == expected
    assert [sorted(c.staff_ids) for c in named] == [
        sorted(option.staff_id for option in slot.staff) for slot in slots
    ]
    assert all(c.staff_ids == () for c in counted)


def _day(*ranges: tuple[int, int]) -> list[Interval]:
    return [Interval(DAY0 + a * H, DAY0 + b * H) for a, b in ranges]


def test_staff_on_grids_out_of_phase_are_counted_apart() -> None:
    service = ServiceSpec("svc", duration=30 * M)
    policy = BookingPolicy(time_slot_interval=30 * M)
    early = [Interval(DAY0 + 9 * H, DAY0 + 10 * H)]
    late = [Interval(DAY0 + 9 * H + 10 * M, DAY0 + 10 * H + 10 * M)]
    staff = [StaffTime("a", early, []), StaffTime("b", early, []), StaffTime("c", late, [])]

    counted = count_starts(service, staff, policy, now=DAY0, window=Interval(DAY0, DAY0 + 24 * H))

    assert [(c.start - DAY0, c.free_staff) for c in counted] == [
        (9 * H, 2),
        (9 * H + 10 * M, 1),
        (9 * H + 30 * M, 2),
        (9 * H + 40 * M, 1),
    ]


def test_a_busy_range_closes_the_starts_whose_buffers_would_meet_it() -> None:
    service = ServiceSpec("svc", duration=30 * M, pre_buffer=10 * M, post_buffer=10 * M)
    policy = BookingPolicy(time_slot_interval=15 * M)
    busy = [(micros(DAY0 + 10 * H), micros(DAY0 + 10 * H + 30 * M))]
    staff = [StaffTime("a", _day((9, 12)), busy)]

    counted = count_starts(service, staff, policy, now=DAY0, window=Interval(DAY0, DAY0 + 24 * H))

    starts = [(c.start - DAY0) / M / 60 for c in counted]
    # 09:15 would end with its buffer at 09:55 (free); 09:30 would run into 10:00.
    assert starts[:2] == [9.0, 9.25]
    assert 9.5 not in starts and 10.5 not in starts
    assert starts[2] == 10.75  # 10:40 is the first free instant; 10:45 the first on grid
    assert starts[-1] == 11.5


def test_a_sitting_is_offered_with_the_seats_it_has_left() -> None:
    service = ServiceSpec("svc", duration=H, capacity=5)
    policy = BookingPolicy(time_slot_interval=H)
    sitting = Booking("a", "svc", DAY0 + 10 * H, DAY0 + 11 * H, seats=3)
    staff = [StaffTime("a", _day((9, 12)), [], [sitting]), StaffTime("b", _day((9, 12)), [])]

    counted = count_starts(service, staff, policy, now=DAY0, window=Interval(DAY0, DAY0 + 24 * H))

    at_ten = next(c for c in counted if c.start == DAY0 + 10 * H)
    assert (at_ten.free_staff, at_ten.free_seats, at_ten.largest_party) == (2, 7, 5)


def test_nothing_when_the_lead_time_outlasts_the_advance() -> None:
    policy = BookingPolicy(minimum_lead_time=2 * H, maximum_advance=H)
    staff = [StaffTime("a", _day((9, 12)), [])]

    assert (
        count_starts(
            ServiceSpec("svc", duration=H), staff, policy, now=DAY0, window=_day((0, 24))[0]
        )
        == []
    )


@pytest.mark.parametrize("value", [DAY0, DAY0 + timedelta(microseconds=7)])
def test_microseconds_are_exact(value: datetime) -> None:
    assert (
        micros(value)
        == int((value - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6
        + value.microsecond
    )


def test_starts_that_only_touch_bookings_stay_free() -> None:
    service = ServiceSpec("svc", duration=30 * M)
    policy = BookingPolicy(time_slot_interval=30 * M)
    busy = [
        (micros(DAY0 + 9 * H + 30 * M), micros(DAY0 + 10 * H)),
        (micros(DAY0 + 10 * H + 30 * M), micros(DAY0 + 11 * H)),
    ]
    staff = [StaffTime("a", _day((9, 12)), busy)]

    counted = count_starts(service, staff, policy, now=DAY0, window=Interval(DAY0, DAY0 + 24 * H))

    assert [(c.start - DAY0) / M / 60 for c in counted] == [9.0, 10.0, 11.0, 11.5]
