"""Working hours expanded into UTC intervals, across DST changes and odd offsets.

The transition instants asserted here were read from zoneinfo (tzdata), not assumed:
New York 2026-03-08 07:00Z (02:00 EST -> 03:00 EDT) and 2026-11-01 06:00Z (02:00 EDT ->
01:00 EST); London 2026-03-29 01:00Z and 2026-10-25 01:00Z; Lord Howe 2026-04-04 15:00Z
(02:00 +11 -> 01:30 +10:30 on 5 April) and 2026-10-03 15:30Z (02:00 +10:30 -> 02:30 +11 on
4 October).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from openvisit.scheduling.hours import (
    TimeRange,
    WorkingHours,
    local_instant,
    working_intervals,
)
from openvisit.scheduling.intervals import Interval

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
EVERY_DAY = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hm(text: str) -> time:
    return time.fromisoformat(text)


def tr(start: str, end: str) -> TimeRange:
    return TimeRange(hm(start), hm(end))


def daily(zone: ZoneInfo, start: str, end: str, **kwargs) -> WorkingHours:
    return WorkingHours(zone=zone, weekly={d: [tr(start, end)] for d in EVERY_DAY}, **kwargs)


def local_day(day: date, zone: ZoneInfo) -> Interval:
    """The instants of one local calendar day in `zone` (23, 24 or 25 hours long)."""
    return Interval(
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )


def on(day: date, hours: WorkingHours) -> list[Interval]:
    """The working intervals that start on local `day`."""
    return [
        i
        for i in working_intervals(hours, local_day(day, hours.zone))
        if i.start.astimezone(hours.zone).date() == day
    ]


# --- TimeRange -------------------------------------------------------------------------


def test_time_range_ending_at_midnight_means_the_next_midnight():
    assert tr("22:00", "00:00").end == time(0)


@pytest.mark.parametrize(("start", "end"), [("09:00", "09:00"), ("10:00", "09:00")])
def test_time_range_refuses_empty_or_reversed(start, end):
    with pytest.raises(ValueError, match="end after it starts"):
        tr(start, end)


# --- weekly hours, overrides, time off ----------------------------------------------------


def test_weekly_hours_expand_per_weekday():
    hours = WorkingHours(
        zone=ZoneInfo("UTC"),
        weekly={0: [tr("08:00", "12:00"), tr("13:00", "17:00")], 2: [tr("10:00", "11:00")]},
    )
    week = Interval(utc(2026, 1, 5), utc(2026, 1, 12))  # Monday .. next Monday
    assert working_intervals(hours, week) == [
        Interval(utc(2026, 1, 5, 8), utc(2026, 1, 5, 12)),
        Interval(utc(2026, 1, 5, 13), utc(2026, 1, 5, 17)),
        Interval(utc(2026, 1, 7, 10), utc(2026, 1, 7, 11)),
    ]


def test_local_hours_become_utc_instants_in_the_owner_zone():
    hours = WorkingHours(zone=NEW_YORK, weekly={0: [tr("09:00", "17:00")]})
    week = Interval(utc(2026, 1, 5), utc(2026, 1, 12))
    assert working_intervals(hours, week) == [Interval(utc(2026, 1, 5, 14), utc(2026, 1, 5, 22))]


def test_override_replaces_one_date_and_an_empty_override_closes_it():
    hours = daily(
        LONDON,
        "09:00",
        "17:00",
        overrides={date(2026, 1, 6): [tr("12:00", "14:00")], date(2026, 1, 7): []},
    )
    days = Interval(utc(2026, 1, 5), utc(2026, 1, 9))
    assert working_intervals(hours, days) == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 17)),
        Interval(utc(2026, 1, 6, 12), utc(2026, 1, 6, 14)),
        Interval(utc(2026, 1, 8, 9), utc(2026, 1, 8, 17)),
    ]


def test_override_opens_a_day_the_weekly_hours_close():
    hours = WorkingHours(
        zone=LONDON,
        weekly={0: [tr("09:00", "10:00")]},
        overrides={date(2026, 1, 10): [tr("10:00", "12:00")]},
    )
    days = Interval(utc(2026, 1, 9), utc(2026, 1, 12))
    assert working_intervals(hours, days) == [Interval(utc(2026, 1, 10, 10), utc(2026, 1, 10, 12))]


def test_time_off_removes_absolute_ranges():
    hours = daily(
        LONDON,
        "09:00",
        "17:00",
        time_off=[
            Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13)),  # lunch appointment
            Interval(utc(2026, 1, 6, 0), utc(2026, 1, 8, 0)),  # two days of leave
        ],
    )
    days = Interval(utc(2026, 1, 5), utc(2026, 1, 9))
    assert working_intervals(hours, days) == [
        Interval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 12)),
        Interval(utc(2026, 1, 5, 13), utc(2026, 1, 5, 17)),
        Interval(utc(2026, 1, 8, 9), utc(2026, 1, 8, 17)),
    ]


def test_end_of_midnight_runs_to_the_next_day_and_touching_days_merge():
    hours = WorkingHours(zone=LONDON, weekly={0: [tr("20:00", "00:00")], 1: [tr("00:00", "04:00")]})
    week = Interval(utc(2026, 1, 5), utc(2026, 1, 12))
    assert working_intervals(hours, week) == [Interval(utc(2026, 1, 5, 20), utc(2026, 1, 6, 4))]


def test_touching_ranges_of_one_day_merge():
    hours = WorkingHours(zone=LONDON, weekly={0: [tr("08:00", "12:00"), tr("12:00", "16:00")]})
    week = Interval(utc(2026, 1, 5), utc(2026, 1, 12))
    assert working_intervals(hours, week) == [Interval(utc(2026, 1, 5, 8), utc(2026, 1, 5, 16))]


def test_no_hours_no_intervals():
    hours = WorkingHours(zone=LONDON, weekly={})
    assert working_intervals(hours, Interval(utc(2026, 1, 5), utc(2026, 2, 5))) == []


def test_periods_that_miss_the_window_are_left_out():
    hours = daily(LONDON, "09:00", "17:00")
    evening = Interval(utc(2026, 1, 5, 18), utc(2026, 1, 6, 8))
    assert working_intervals(hours, evening) == []


def test_a_period_the_window_cuts_is_returned_whole():
    """Slots count their grid from the start of a period, so the window must not move it."""
    hours = daily(NEW_YORK, "09:00", "17:00")
    afternoon = Interval(utc(2026, 1, 5, 18, 15), utc(2026, 1, 5, 19))  # 13:15-14:00 EST
    assert working_intervals(hours, afternoon) == [
        Interval(utc(2026, 1, 5, 14), utc(2026, 1, 5, 22))
    ]


def test_a_caller_in_another_zone_gets_whole_periods():
    hours = daily(NEW_YORK, "09:00", "17:00")
    for zone in (NEW_YORK, KATHMANDU, KOLKATA, LORD_HOWE):
        window = local_day(date(2026, 1, 5), zone)
        found = working_intervals(hours, window)
        assert found
        for period in found:
            assert period.overlaps(window)
            assert period.start.astimezone(NEW_YORK).time() == hm("09:00")
            assert period.duration == timedelta(hours=8)


def test_a_period_running_across_midnights_keeps_its_real_start():
    """Monday to Friday around the clock: Friday's window still sees Monday's start."""
    hours = WorkingHours(zone=LONDON, weekly={d: [tr("00:00", "00:00")] for d in range(5)})
    friday = Interval(utc(2026, 1, 9, 15), utc(2026, 1, 9, 16))
    assert working_intervals(hours, friday) == [Interval(utc(2026, 1, 5), utc(2026, 1, 10))]


def test_round_the_clock_hours_are_followed_for_a_week_either_side():
    hours = daily(LONDON, "00:00", "00:00")
    found = working_intervals(hours, Interval(utc(2026, 1, 5, 15), utc(2026, 1, 6, 9)))
    assert found == [Interval(utc(2025, 12, 29), utc(2026, 1, 14))]


# --- DST: New York ---------------------------------------------------------------------


def test_new_york_spring_forward_shift_lasts_two_real_hours():
    hours = daily(NEW_YORK, "01:00", "04:00")
    [shift] = on(date(2026, 3, 8), hours)
    assert shift == Interval(utc(2026, 3, 8, 6), utc(2026, 3, 8, 8))  # 01:00 EST .. 04:00 EDT
    assert shift.duration == timedelta(hours=2)


def test_new_york_start_in_the_skipped_hour_starts_late():
    start = local_instant(date(2026, 3, 8), hm("02:30"), NEW_YORK)
    assert start == utc(2026, 3, 8, 7, 30)
    assert start.astimezone(NEW_YORK).time() == hm("03:30")
    hours = daily(NEW_YORK, "02:30", "05:00")
    assert on(date(2026, 3, 8), hours) == [Interval(utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 9))]


def test_new_york_range_inside_the_skipped_hour_collapses_or_shifts():
    # 02:30 reads as 03:30 EDT, after 03:15 EDT: nothing is left of that range.
    collapsed = daily(NEW_YORK, "02:30", "03:15")
    assert on(date(2026, 3, 8), collapsed) == []
    assert len(on(date(2026, 3, 9), collapsed)) == 1  # an ordinary day keeps it
    # Both ends skipped: both read with EST, so the range keeps its length an hour later.
    shifted = daily(NEW_YORK, "02:15", "02:45")
    assert on(date(2026, 3, 8), shifted) == [
        Interval(utc(2026, 3, 8, 7, 15), utc(2026, 3, 8, 7, 45))
    ]


def test_new_york_fall_back_hour_lasts_two_real_hours_from_its_first_occurrence():
    hours = daily(NEW_YORK, "01:00", "02:00")
    [shift] = on(date(2026, 11, 1), hours)
    assert shift == Interval(utc(2026, 11, 1, 5), utc(2026, 11, 1, 7))  # 01:00 EDT .. 02:00 EST
    assert shift.duration == timedelta(hours=2)
    first = local_instant(date(2026, 11, 1), hm("01:30"), NEW_YORK)
    assert first == utc(2026, 11, 1, 5, 30)
    assert first.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)


def test_new_york_same_local_hours_on_both_sides_of_each_change():
    hours = daily(NEW_YORK, "08:00", "16:00")
    for day, offset in [
        (date(2026, 3, 7), -5),
        (date(2026, 3, 8), -4),
        (date(2026, 3, 9), -4),
        (date(2026, 10, 31), -4),
        (date(2026, 11, 1), -5),
        (date(2026, 11, 2), -5),
    ]:
        [shift] = on(day, hours)
        assert shift.start.astimezone(NEW_YORK).time() == hm("08:00")
        assert shift.end.astimezone(NEW_YORK).time() == hm("16:00")
        assert shift.start == datetime.combine(day, hm("08:00"), tzinfo=UTC) - timedelta(
            hours=offset
        )
        assert shift.duration == timedelta(hours=8)


def test_new_york_around_the_clock_days_are_23_and_25_hours_long():
    hours = WorkingHours(
        zone=NEW_YORK,
        weekly={},
        overrides={
            date(2026, 3, 8): [tr("00:00", "00:00")],
            date(2026, 11, 1): [tr("00:00", "00:00")],
        },
    )
    spring = working_intervals(hours, local_day(date(2026, 3, 8), NEW_YORK))
    fall = working_intervals(hours, local_day(date(2026, 11, 1), NEW_YORK))
    assert [i.duration for i in spring] == [timedelta(hours=23)]
    assert [i.duration for i in fall] == [timedelta(hours=25)]


# --- DST: London -----------------------------------------------------------------------


def test_london_spring_forward():
    hours = daily(LONDON, "00:30", "03:00")
    [shift] = on(date(2026, 3, 29), hours)
    assert shift == Interval(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2))  # 00:30 GMT..03:00 BST
    assert shift.duration == timedelta(hours=1, minutes=30)
    assert local_instant(date(2026, 3, 29), hm("01:30"), LONDON) == utc(2026, 3, 29, 1, 30)


def test_london_fall_back():
    hours = daily(LONDON, "00:30", "03:00")
    [shift] = on(date(2026, 10, 25), hours)
    assert shift == Interval(utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 3))  # BST .. GMT
    assert shift.duration == timedelta(hours=3, minutes=30)
    assert local_instant(date(2026, 10, 25), hm("01:30"), LONDON) == utc(2026, 10, 25, 0, 30)


def test_london_same_local_hours_on_both_sides_of_each_change():
    hours = daily(LONDON, "08:00", "16:00")
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25)):
        [shift] = on(day, hours)
        assert shift.start.astimezone(LONDON).time() == hm("08:00")
        assert shift.end.astimezone(LONDON).time() == hm("16:00")
    assert on(date(2026, 3, 28), hours)[0].start == utc(2026, 3, 28, 8)
    assert on(date(2026, 3, 29), hours)[0].start == utc(2026, 3, 29, 7)
    assert on(date(2026, 10, 24), hours)[0].start == utc(2026, 10, 24, 7)
    assert on(date(2026, 10, 25), hours)[0].start == utc(2026, 10, 25, 8)


# --- DST: Lord Howe, a 30-minute shift -------------------------------------------------


def test_lord_howe_fall_back_repeats_half_an_hour():
    # 02:00 +11:00 becomes 01:30 +10:30 on 5 April 2026.
    hours = daily(LORD_HOWE, "01:00", "03:00")
    [shift] = on(date(2026, 4, 5), hours)
    assert shift == Interval(utc(2026, 4, 4, 14), utc(2026, 4, 4, 16, 30))  # +11 .. +10:30
    assert shift.duration == timedelta(hours=2, minutes=30)
    first = local_instant(date(2026, 4, 5), hm("01:45"), LORD_HOWE)
    assert first == utc(2026, 4, 4, 14, 45)
    assert first.astimezone(LORD_HOWE).utcoffset() == timedelta(hours=11)


def test_lord_howe_spring_forward_skips_half_an_hour():
    # 02:00 +10:30 becomes 02:30 +11:00 on 4 October 2026.
    hours = daily(LORD_HOWE, "01:00", "03:00")
    [shift] = on(date(2026, 10, 4), hours)
    assert shift == Interval(utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 16))  # +10:30 .. +11
    assert shift.duration == timedelta(hours=1, minutes=30)
    late = local_instant(date(2026, 10, 4), hm("02:15"), LORD_HOWE)
    assert late == utc(2026, 10, 3, 15, 45)
    assert late.astimezone(LORD_HOWE).time() == hm("02:45")


def test_lord_howe_same_local_hours_on_both_sides_of_each_change():
    hours = daily(LORD_HOWE, "08:00", "16:00")
    expected = {
        date(2026, 4, 4): utc(2026, 4, 3, 21),  # +11:00
        date(2026, 4, 5): utc(2026, 4, 4, 21, 30),  # +10:30
        date(2026, 10, 3): utc(2026, 10, 2, 21, 30),  # +10:30
        date(2026, 10, 4): utc(2026, 10, 3, 21),  # +11:00
    }
    for day, start in expected.items():
        [shift] = on(day, hours)
        assert shift.start == start
        assert shift.start.astimezone(LORD_HOWE).time() == hm("08:00")
        assert shift.end.astimezone(LORD_HOWE).time() == hm("16:00")


# --- offset zones ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        (KOLKATA, utc(2026, 1, 5, 3, 30), utc(2026, 1, 5, 11, 30)),  # +05:30
        (KATHMANDU, utc(2026, 1, 5, 3, 15), utc(2026, 1, 5, 11, 15)),  # +05:45
    ],
)
def test_offset_zones_land_on_the_right_utc_instants(zone, start, end):
    hours = daily(zone, "09:00", "17:00")
    assert on(date(2026, 1, 5), hours) == [Interval(start, end)]
