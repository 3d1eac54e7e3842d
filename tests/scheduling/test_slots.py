"""Slot generation: one test per rule of `openvisit.scheduling.slots`, plus fixed DST and
offset-zone days driven from working hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from openvisit.scheduling.hours import TimeRange, WorkingHours, working_intervals
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slots import (
    Booking,
    ServiceSpec,
    Slot,
    StaffOption,
    StaffWork,
    available_slots,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")

DAY = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday far from any DST change
NOW = DAY - timedelta(days=1)
WHOLE_DAY = Interval(DAY, DAY + timedelta(days=1))


def t(clock: str, day: datetime = DAY) -> datetime:
    """A UTC instant on `day` from "HH:MM"."""
    hours, minutes = map(int, clock.split(":"))
    return day + timedelta(hours=hours, minutes=minutes)


def mins(n: int) -> timedelta:
    return timedelta(minutes=n)


def work(staff_id: str, *ranges: tuple[str, str]) -> StaffWork:
    return StaffWork(staff_id, [Interval(t(a), t(b)) for a, b in ranges])


def service(duration: int = 30, pre: int = 0, post: int = 0, capacity: int = 1) -> ServiceSpec:
    return ServiceSpec("svc", mins(duration), mins(pre), mins(post), capacity)


def booking(
    start: str,
    end: str,
    *,
    staff_id: str = "ann",
    service_id: str = "other",
    pre: int = 0,
    post: int = 0,
    seats: int = 1,
) -> Booking:
    return Booking(staff_id, service_id, t(start), t(end), mins(pre), mins(post), seats)


def grid(every: int = 30, lead: timedelta = timedelta(0), advance=timedelta(days=365)):
    return BookingPolicy(mins(every), lead, advance)


def starts(slots: list[Slot]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def slots_for(
    svc: ServiceSpec,
    staff: list[StaffWork],
    bookings: Sequence[Booking] = (),
    policy: BookingPolicy | None = None,
    *,
    now: datetime = NOW,
    window: Interval = WHOLE_DAY,
) -> list[Slot]:
    return available_slots(svc, staff, bookings, policy or grid(), now=now, window=window)


# --- value types -----------------------------------------------------------------------


def test_service_and_booking_blocked_ranges_include_buffers():
    svc = service(30, pre=10, post=5)
    assert svc.blocked(t("09:00")) == Interval(t("08:50"), t("09:35"))
    assert booking("09:00", "09:45", pre=15, post=20).blocked == Interval(t("08:45"), t("10:05"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": timedelta(0)}, "positive duration"),
        ({"duration": mins(-5)}, "positive duration"),
        ({"capacity": 0}, "at least one seat"),
        ({"pre_buffer": mins(-1)}, "buffers must not be negative"),
        ({"post_buffer": mins(-1)}, "buffers must not be negative"),
    ],
)
def test_service_spec_refuses_bad_values(kwargs, message):
    values = {"id": "svc", "duration": mins(30)} | kwargs
    with pytest.raises(ValueError, match=message):
        ServiceSpec(**values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_slot_interval": timedelta(0)}, "time_slot_interval must be positive"),
        ({"time_slot_interval": mins(-15)}, "time_slot_interval must be positive"),
        ({"minimum_lead_time": mins(-1)}, "lead time must not be negative"),
        ({"maximum_advance": timedelta(0)}, "maximum advance positive"),
        ({"maximum_advance": mins(-1)}, "maximum advance positive"),
    ],
)
def test_booking_policy_refuses_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BookingPolicy(**kwargs)


def test_booking_policy_defaults_and_start_window():
    policy = BookingPolicy()
    assert policy.time_slot_interval == mins(30)
    assert policy.allow_staff_selection
    assert policy.start_window(DAY) == Interval(DAY, DAY + timedelta(days=365))
    assert grid(lead=mins(60), advance=mins(120)).start_window(DAY) == Interval(
        t("01:00"), t("02:00")
    )
    assert grid(lead=mins(120), advance=mins(60)).start_window(DAY) is None
    assert grid(lead=mins(60), advance=mins(60)).start_window(DAY) is None


def test_slot_free_seats_is_the_best_option():
    slot = Slot(t("09:00"), t("09:30"), (StaffOption("ann", 2), StaffOption("bob", 4)))
    assert slot.free_seats == 4


# --- grid ------------------------------------------------------------------------------


def test_slots_cut_on_the_grid_and_fit_the_period():
    slots = slots_for(service(30), [work("ann", ("08:00", "10:00"))])
    assert starts(slots) == ["08:00", "08:30", "09:00", "09:30"]
    assert [s.end for s in slots] == [t("08:30"), t("09:00"), t("09:30"), t("10:00")]
    assert all(s.staff == (StaffOption("ann", 1),) for s in slots)


def test_grid_counts_from_the_start_of_each_working_period():
    ann = work("ann", ("08:10", "09:30"), ("10:05", "11:00"))
    assert starts(slots_for(service(30), [ann], policy=grid(20))) == [
        "08:10",
        "08:30",
        "08:50",
        "10:05",
        "10:25",
    ]


def test_grid_wider_than_the_service_leaves_gaps():
    ann = work("ann", ("08:00", "11:00"))
    assert starts(slots_for(service(20), [ann], policy=grid(60))) == ["08:00", "09:00", "10:00"]


def test_grid_narrower_than_the_service_offers_overlapping_starts():
    ann = work("ann", ("08:00", "09:30"))
    assert starts(slots_for(service(60), [ann], policy=grid(15))) == ["08:00", "08:15", "08:30"]


def test_working_intervals_in_any_order_and_touching_become_one_period():
    ann = StaffWork("ann", [Interval(t("09:00"), t("10:00")), Interval(t("08:00"), t("09:00"))])
    assert starts(slots_for(service(45), [ann], policy=grid(45))) == ["08:00", "08:45"]


def test_a_period_shorter_than_the_service_offers_nothing():
    assert slots_for(service(60), [work("ann", ("08:00", "08:59"))]) == []


def test_no_staff_no_slots():
    assert slots_for(service(30), []) == []


# --- buffers and bookings ----------------------------------------------------------------


def test_buffers_keep_slots_clear_of_a_booking_and_its_buffers():
    # The booking holds 09:50-10:40; a slot holds 10 minutes either side of its 30.
    ann = work("ann", ("08:00", "12:00"))
    taken = booking("10:00", "10:30", pre=10, post=10)
    found = starts(slots_for(service(30, pre=10, post=10), [ann], [taken], grid(10)))
    assert "09:10" in found  # holds 09:00-09:50: touches, does not overlap
    assert "09:20" not in found
    assert "10:40" not in found
    assert "10:50" in found  # holds 10:40-11:30
    assert found == [
        *(f"{h:02}:{m:02}" for h in (8, 9) for m in range(0, 60, 10) if (h, m) <= (9, 10)),
        "10:50",
        "11:00",
        "11:10",
        "11:20",
        "11:30",
    ]


def test_buffers_may_spill_outside_working_time():
    ann = work("ann", ("08:00", "09:00"))
    assert starts(slots_for(service(30, pre=15, post=15), [ann])) == ["08:00", "08:30"]


def test_buffers_never_spill_into_a_booking_outside_working_time():
    ann = work("ann", ("08:00", "09:00"))
    early = booking("07:30", "07:55")  # before work starts, e.g. booked by an admin
    assert starts(slots_for(service(30, pre=10), [ann], [early])) == ["08:30"]
    late = booking("09:05", "09:30")
    assert starts(slots_for(service(30, post=10), [ann], [late])) == ["08:00"]


def test_a_bookings_own_buffers_block_even_outside_working_time():
    ann = work("ann", ("08:00", "10:00"))
    before = booking("07:00", "07:45", post=30)  # its follow-up runs to 08:15
    assert starts(slots_for(service(30), [ann], [before], grid(15))) == [
        "08:15",
        "08:30",
        "08:45",
        "09:00",
        "09:15",
        "09:30",
    ]


def test_bookings_off_the_grid_block_what_they_overlap():
    ann = work("ann", ("08:00", "10:00"))
    odd = booking("08:40", "08:50")
    assert starts(slots_for(service(30), [ann], [odd])) == ["08:00", "09:00", "09:30"]


def test_other_staff_bookings_do_not_block():
    ann = work("ann", ("08:00", "09:00"))
    bobs = booking("08:00", "09:00", staff_id="bob")
    assert starts(slots_for(service(30), [ann], [bobs])) == ["08:00", "08:30"]


def test_same_service_bookings_block_a_one_seat_service():
    ann = work("ann", ("08:00", "09:00"))
    same = booking("08:00", "08:30", service_id="svc")
    assert starts(slots_for(service(30), [ann], [same])) == ["08:30"]


# --- lead time, maximum advance, window ----------------------------------------------------


def test_lead_time_keeps_the_grid_of_the_period():
    ann = work("ann", ("08:00", "12:00"))
    found = slots_for(service(30), [ann], now=t("08:05"), policy=grid(30, lead=mins(60)))
    assert starts(found)[:2] == ["09:30", "10:00"]  # not 09:05: the grid counts from 08:00


def test_lead_time_bound_is_inclusive():
    ann = work("ann", ("08:00", "12:00"))
    found = slots_for(service(30), [ann], now=t("08:00"), policy=grid(30, lead=mins(90)))
    assert starts(found)[0] == "09:30"


def test_maximum_advance_bound_is_inclusive():
    """ "No later than now + maximum advance": a slot may start exactly at that instant."""
    ann = work("ann", ("08:00", "12:00"))
    found = slots_for(service(30), [ann], now=t("07:00"), policy=grid(30, advance=mins(180)))
    assert starts(found) == ["08:00", "08:30", "09:00", "09:30", "10:00"]
    found = slots_for(service(30), [ann], now=t("07:01"), policy=grid(30, advance=mins(180)))
    assert starts(found)[-1] == "10:00"
    found = slots_for(service(30), [ann], now=t("06:59"), policy=grid(30, advance=mins(180)))
    assert starts(found)[-1] == "09:30"


def test_slots_before_now_are_never_offered():
    ann = work("ann", ("08:00", "12:00"))
    assert starts(slots_for(service(30), [ann], now=t("10:10"))) == ["10:30", "11:00", "11:30"]


def test_lead_time_beyond_maximum_advance_offers_nothing():
    ann = work("ann", ("08:00", "12:00"))
    policy = grid(30, lead=timedelta(days=2), advance=timedelta(days=1))
    assert slots_for(service(30), [ann], now=t("00:00"), policy=policy) == []


def test_lead_time_equal_to_maximum_advance_offers_nothing():
    """A policy must leave room between its lead time and its advance (see start_window)."""
    ann = work("ann", ("08:00", "12:00"))
    policy = grid(30, lead=mins(60), advance=mins(60))
    assert slots_for(service(30), [ann], now=t("08:00"), policy=policy) == []


def test_window_start_is_inclusive_and_end_exclusive():
    ann = work("ann", ("08:00", "12:00"))
    window = Interval(t("09:00"), t("10:00"))
    found = slots_for(service(30), [ann], window=window)
    assert starts(found) == ["09:00", "09:30"]


def test_a_slot_may_run_past_the_end_of_the_window():
    ann = work("ann", ("08:00", "12:00"))
    found = slots_for(service(60), [ann], window=Interval(t("09:00"), t("09:45")))
    assert [(s.start, s.end) for s in found] == [(t("09:00"), t("10:00")), (t("09:30"), t("10:30"))]


def test_a_window_starting_off_the_grid_keeps_the_grid():
    ann = work("ann", ("08:00", "12:00"))
    found = slots_for(service(30), [ann], window=Interval(t("09:10"), t("10:30")))
    assert starts(found) == ["09:30", "10:00"]


def test_window_and_now_may_be_in_any_zone():
    ann = work("ann", ("08:00", "12:00"))
    window = Interval(t("09:00").astimezone(KATHMANDU), t("11:00").astimezone(LORD_HOWE))
    found = slots_for(service(30), [ann], now=t("08:40").astimezone(NEW_YORK), window=window)
    assert starts(found) == ["09:00", "09:30", "10:00", "10:30"]


def test_lead_time_is_real_time_when_now_comes_in_a_dst_zone():
    # A day of lead time from noon UTC on 7 March is noon UTC on 8 March, though New York
    # clocks jump in between: 07:00 EST + 1 day is 08:00 EDT, not 07:00 EDT.
    sunday = DAY.replace(month=3, day=8)
    ann = StaffWork("ann", [Interval(t("11:00", sunday), t("14:00", sunday))])
    now = t("12:00", sunday - timedelta(days=1)).astimezone(NEW_YORK)
    policy = grid(30, lead=timedelta(days=1), advance=timedelta(days=1, hours=1))
    window = Interval(sunday, sunday + timedelta(days=1))
    found = slots_for(service(30), [ann], now=now, policy=policy, window=window)
    assert [s.start for s in found] == [t("12:00", sunday), t("12:30", sunday), t("13:00", sunday)]


def test_a_booking_in_a_dst_zone_blocks_its_real_buffers():
    # 03:10 EDT on 8 March, with 30 minutes before it: from 06:40 UTC (01:40 EST).
    sunday = DAY.replace(month=3, day=8)
    start = t("07:10", sunday).astimezone(NEW_YORK)
    taken = Booking("ann", "other", start, start + mins(20), mins(30))
    assert taken.blocked == Interval(t("06:40", sunday), t("07:30", sunday))
    assert taken.start.tzinfo is UTC
    ann = StaffWork("ann", [Interval(t("06:00", sunday), t("07:00", sunday))])
    window = Interval(sunday, sunday + timedelta(days=1))
    found = slots_for(service(30), [ann], [taken], grid(10), window=window)
    assert [s.start for s in found] == [t("06:00", sunday), t("06:10", sunday)]


def test_service_blocked_counts_buffers_in_real_time():
    sunday = DAY.replace(month=3, day=8)
    start = t("07:10", sunday).astimezone(NEW_YORK)  # 03:10 EDT
    assert service(30, pre=30).blocked(start) == Interval(t("06:40", sunday), t("07:40", sunday))


# --- group services ----------------------------------------------------------------------


def group(capacity: int = 5, duration: int = 60, pre: int = 0, post: int = 0) -> ServiceSpec:
    return service(duration, pre, post, capacity)


def test_group_slot_counts_seats_down():
    ann = work("ann", ("09:00", "12:00"))
    taken = [booking("10:00", "11:00", service_id="svc", seats=s) for s in (1, 2)]
    found = slots_for(group(5), [ann], taken, grid(60))
    assert [(s.start, s.free_seats) for s in found] == [
        (t("09:00"), 5),
        (t("10:00"), 2),
        (t("11:00"), 5),
    ]
    assert found[1].staff == (StaffOption("ann", 2),)


@pytest.mark.parametrize("seats", [5, 6])
def test_a_full_group_slot_disappears(seats):
    ann = work("ann", ("09:00", "12:00"))
    taken = [booking("10:00", "11:00", service_id="svc", seats=seats)]
    assert starts(slots_for(group(5), [ann], taken, grid(60))) == ["09:00", "11:00"]


def test_a_group_at_another_overlapping_time_blocks():
    ann = work("ann", ("09:00", "12:00"))
    taken = [booking("09:30", "10:30", service_id="svc", seats=1)]
    found = slots_for(group(5), [ann], taken, grid(30))
    assert [(s.start, s.free_seats) for s in found] == [
        (t("09:30"), 4),
        (t("10:30"), 5),
        (t("11:00"), 5),
    ]


def test_group_buffers_count_between_groups():
    ann = work("ann", ("09:00", "13:00"))
    taken = [booking("10:00", "11:00", service_id="svc", pre=15, post=15)]
    found = slots_for(group(5, pre=15, post=15), [ann], taken, grid(15))
    assert (t("10:00"), 4) in [(s.start, s.free_seats) for s in found]
    assert "10:45" not in starts(found)
    assert "11:15" not in starts(found)
    assert "11:30" in starts(found)  # holds 11:15-12:45, after the group's 11:15
    assert "08:45" not in starts(found)


def test_a_group_of_another_service_blocks_even_at_the_same_time():
    ann = work("ann", ("09:00", "12:00"))
    taken = [booking("10:00", "11:00", service_id="yoga", seats=1)]
    assert starts(slots_for(group(5), [ann], taken, grid(60))) == ["09:00", "11:00"]


def test_a_group_booked_with_another_duration_cannot_be_joined_and_blocks():
    # The service was shortened from 60 to 45 minutes after this group was booked.
    ann = work("ann", ("09:00", "12:00"))
    taken = [booking("10:00", "11:00", service_id="svc", seats=1)]
    assert starts(slots_for(group(5, duration=45), [ann], taken, grid(15))) == [
        "09:00",
        "09:15",
        "11:00",
        "11:15",
    ]


def test_a_group_keeps_the_buffers_it_was_booked_with():
    # The service's buffers were cut after this group was booked with 30 minutes after it.
    ann = work("ann", ("09:00", "13:00"))
    taken = [booking("10:00", "11:00", service_id="svc", seats=1, post=30)]
    found = starts(slots_for(group(5), [ann], taken, grid(15)))
    assert "10:00" in found
    assert "11:00" not in found
    assert "11:15" not in found
    assert "11:30" in found


def test_joining_a_group_still_respects_other_groups():
    # Joining the 10:00 group with today's 30-minute buffers would run into the 11:15 group,
    # booked with its own 15-minute pre-buffer.
    ann = work("ann", ("09:00", "14:00"))
    taken = [
        booking("10:00", "11:00", service_id="svc", seats=1),
        booking("11:15", "12:15", service_id="svc", seats=1, pre=15),
    ]
    found = starts(slots_for(group(5, post=30), [ann], taken, grid(15)))
    assert "10:00" not in found
    assert "11:15" in found


def test_a_one_seat_service_ignores_seat_counts():
    ann = work("ann", ("09:00", "11:00"))
    taken = [booking("09:00", "10:00", service_id="svc", seats=0)]
    assert starts(slots_for(group(1), [ann], taken, grid(60))) == ["10:00"]


# --- several staff members -----------------------------------------------------------------


def test_a_slot_lists_every_free_staff_member_with_seats():
    ann = work("ann", ("09:00", "12:00"))
    bob = work("bob", ("10:00", "13:00"))
    cy = work("cy", ("09:00", "10:00"))
    taken = [
        booking("10:00", "11:00", staff_id="ann", service_id="svc", seats=3),
        booking("11:00", "12:00", staff_id="bob", service_id="other"),
    ]
    found = slots_for(group(5), [ann, bob, cy], taken, grid(60))
    assert found == [
        Slot(t("09:00"), t("10:00"), (StaffOption("ann", 5), StaffOption("cy", 5))),
        Slot(t("10:00"), t("11:00"), (StaffOption("ann", 2), StaffOption("bob", 5))),
        Slot(t("11:00"), t("12:00"), (StaffOption("ann", 5),)),
        Slot(t("12:00"), t("13:00"), (StaffOption("bob", 5),)),
    ]
    assert [s.free_seats for s in found] == [5, 5, 5, 5]


def test_staff_on_different_grids_interleave_in_start_order():
    ann = work("ann", ("09:00", "10:00"))
    bob = work("bob", ("09:15", "10:15"))
    found = slots_for(service(30), [ann, bob])
    assert [(s.start.strftime("%H:%M"), s.staff[0].staff_id) for s in found] == [
        ("09:00", "ann"),
        ("09:15", "bob"),
        ("09:30", "ann"),
        ("09:45", "bob"),
    ]


# --- fixed days from working hours, across DST and in offset zones -----------------------


def local_slots(
    zone: ZoneInfo,
    day: date,
    ranges: list[tuple[str, str]],
    *,
    every: int = 60,
    duration: int = 60,
    caller: ZoneInfo | None = None,
) -> list[datetime]:
    """Slot starts on local `day` of one staff member working `ranges` every day in `zone`,
    as a caller in `caller` (default: the staff zone) asks for that calendar day."""
    hours = WorkingHours(
        zone=zone,
        weekly={
            d: [TimeRange(time.fromisoformat(a), time.fromisoformat(b)) for a, b in ranges]
            for d in range(7)
        },
    )
    asker = caller or zone
    window = Interval(
        datetime.combine(day, time(0), tzinfo=asker).astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=asker).astimezone(UTC),
    )
    staff = [StaffWork("ann", working_intervals(hours, window))]
    found = available_slots(
        service(duration),
        staff,
        [],
        grid(every),
        now=window.start - timedelta(days=1),
        window=window,
    )
    return [s.start for s in found]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_new_york_spring_forward_day():
    found = local_slots(NEW_YORK, date(2026, 3, 8), [("00:00", "04:00")])
    # 00:00 and 01:00 EST, then 03:00 EDT: the period is three real hours long.
    assert found == [utc(2026, 3, 8, 5), utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)]
    assert [s.astimezone(NEW_YORK).hour for s in found] == [0, 1, 3]


def test_new_york_spring_forward_start_in_the_skipped_hour():
    found = local_slots(NEW_YORK, date(2026, 3, 8), [("02:30", "05:00")], every=30, duration=30)
    assert found[0] == utc(2026, 3, 8, 7, 30)
    assert found[0].astimezone(NEW_YORK).time() == time(3, 30)
    assert len(found) == 3  # 03:30, 04:00, 04:30 EDT


def test_new_york_fall_back_day():
    found = local_slots(NEW_YORK, date(2026, 11, 1), [("00:00", "04:00")])
    # 00:00 and 01:00 EDT, 01:00 EST again, then 02:00 and 03:00 EST: five real hours.
    assert found == [utc(2026, 11, 1, h) for h in (4, 5, 6, 7, 8)]
    assert [s.astimezone(NEW_YORK).hour for s in found] == [0, 1, 1, 2, 3]


def test_new_york_eight_oclock_on_both_sides_of_each_change():
    for day, first in [
        (date(2026, 3, 7), utc(2026, 3, 7, 13)),
        (date(2026, 3, 8), utc(2026, 3, 8, 12)),
        (date(2026, 10, 31), utc(2026, 10, 31, 12)),
        (date(2026, 11, 1), utc(2026, 11, 1, 13)),
    ]:
        found = local_slots(NEW_YORK, day, [("08:00", "16:00")])
        assert found[0] == first
        assert [s.astimezone(NEW_YORK).hour for s in found] == list(range(8, 16))


def test_london_changes():
    spring = local_slots(LONDON, date(2026, 3, 29), [("00:00", "03:00")])
    assert [s.astimezone(LONDON).hour for s in spring] == [0, 2]  # 01:00 GMT is 02:00 BST
    fall = local_slots(LONDON, date(2026, 10, 25), [("00:00", "03:00")])
    assert [s.astimezone(LONDON).hour for s in fall] == [0, 1, 1, 2]
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25)):
        found = local_slots(LONDON, day, [("08:00", "10:00")])
        assert [s.astimezone(LONDON).time() for s in found] == [time(8), time(9)]


def test_lord_howe_half_hour_changes():
    fall = local_slots(LORD_HOWE, date(2026, 4, 5), [("01:00", "03:00")], every=30, duration=30)
    # 01:00, 01:30 (+11), 01:30 again (+10:30), 02:00, 02:30: two and a half real hours.
    assert [s.astimezone(LORD_HOWE).strftime("%H:%M%z") for s in fall] == [
        "01:00+1100",
        "01:30+1100",
        "01:30+1030",
        "02:00+1030",
        "02:30+1030",
    ]
    spring = local_slots(LORD_HOWE, date(2026, 10, 4), [("01:00", "03:00")], every=30, duration=30)
    assert [s.astimezone(LORD_HOWE).strftime("%H:%M%z") for s in spring] == [
        "01:00+1030",
        "01:30+1030",
        "02:30+1100",
    ]
    for day in (date(2026, 4, 4), date(2026, 4, 5), date(2026, 10, 3), date(2026, 10, 4)):
        found = local_slots(LORD_HOWE, day, [("08:00", "10:00")])
        assert [s.astimezone(LORD_HOWE).time() for s in found] == [time(8), time(9)]


@pytest.mark.parametrize(
    ("zone", "first"),
    [(KOLKATA, utc(2026, 1, 5, 3, 30)), (KATHMANDU, utc(2026, 1, 5, 3, 15))],
)
def test_offset_zones_start_at_the_right_instants(zone, first):
    found = local_slots(zone, date(2026, 1, 5), [("09:00", "12:00")])
    assert found == [first, first + timedelta(hours=1), first + timedelta(hours=2)]


@pytest.mark.parametrize("caller", [NEW_YORK, LONDON, KOLKATA, KATHMANDU, LORD_HOWE])
def test_a_caller_in_another_zone_sees_the_same_grid(caller):
    """A New York provider's day, asked for as the caller's calendar day: whatever part of
    it falls on that day is cut on the same grid, from 08:00 New York time."""
    found = local_slots(NEW_YORK, date(2026, 1, 5), [("08:00", "20:00")], caller=caller)
    assert found
    assert all(s.astimezone(NEW_YORK).minute == 0 for s in found)


def test_a_night_shift_across_the_callers_midnight_is_not_lost():
    # 22:00-02:00 London; a London caller's Monday ends at midnight, mid-shift.
    found = local_slots(
        LONDON, date(2026, 1, 5), [("22:00", "00:00"), ("00:00", "02:00")], every=90, duration=90
    )
    assert found == [utc(2026, 1, 5, 22, 0), utc(2026, 1, 5, 23, 30)]
