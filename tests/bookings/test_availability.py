"""Slot listing and staff availability through the service layer (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openvisit.bookings.availability import list_slots, staff_availability
from openvisit.errors import InvalidInput, NotFound
from openvisit.scheduling.intervals import Interval
from tests.bookings.clinic import TUESDAY_10, book_at
from tests.databases import count_statements
from tests.factories import make_staff

TUESDAY = Interval(datetime(2026, 11, 24, 5, 0, tzinfo=UTC), datetime(2026, 11, 25, 5, tzinfo=UTC))


def _starts(spans) -> list[str]:
    """Local New York wall-clock starts (the clinic's zone; EST in late November)."""
    return [(span.start - timedelta(hours=5)).strftime("%H:%M") for span in spans]


def test_slots_follow_hours_grid_and_bookings(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))  # Tuesday 10:00-10:30 local, buffers 10 min

    slots, names = list_slots(
        runtime.db,
        runtime.clock,
        clinic["business"],
        clinic["visit"],
        TUESDAY,
        staff_id=clinic["ann"],
    )

    starts = _starts(slots)
    # 09:30, 10:00 and 10:30 would overlap the booking's buffered 09:50-10:40.
    assert starts[:3] == ["09:00", "11:00", "11:30"]
    assert starts[-1] == "16:30"
    assert names == {clinic["ann"]: "Dr. Ann"}


def test_a_slot_lists_every_free_staff_member(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))

    slots, _names = list_slots(
        runtime.db, runtime.clock, clinic["business"], clinic["visit"], TUESDAY
    )

    by_start = {slot.start: [option.staff_id for option in slot.staff] for slot in slots}
    assert by_start[TUESDAY_10] == [clinic["bob"]]
    assert by_start[TUESDAY_10 + timedelta(hours=2)] == [clinic["ann"], clinic["bob"]]


def test_group_slots_report_free_seats(runtime, clinic):
    book_at(runtime, clinic, service="group", customers=({"name": "a"}, {"name": "b"}))

    slots, _names = list_slots(
        runtime.db, runtime.clock, clinic["business"], clinic["group"], TUESDAY
    )

    seats = {slot.start: slot.free_seats for slot in slots}
    assert seats[TUESDAY_10] == 1
    assert seats[TUESDAY_10 + timedelta(hours=2)] == 3


def test_slot_listing_costs_the_same_statements_for_any_staff_and_span(runtime, clinic):
    for number in range(12):
        make_staff(runtime, clinic["business"], f"Dr. Extra{number}")
    month = Interval(TUESDAY.start, TUESDAY.start + timedelta(days=30))

    with count_statements(runtime.db) as one_day:
        list_slots(
            runtime.db,
            runtime.clock,
            clinic["business"],
            clinic["visit"],
            TUESDAY,
            staff_id=clinic["ann"],
        )
    with count_statements(runtime.db) as month_all:
        list_slots(runtime.db, runtime.clock, clinic["business"], clinic["visit"], month)

    queries = [s for s in month_all if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 5
    assert len([s for s in one_day if s.lstrip().upper().startswith("SELECT")]) == len(queries)


def test_dates_in_the_business_zone_cost_no_extra_read(runtime, clinic):
    """A caller naming no zone gets the window built from the business's, in one read."""
    asked: list[str] = []

    def window_in(zone_name: str) -> Interval:
        asked.append(zone_name)
        return TUESDAY

    with count_statements(runtime.db) as by_zone:
        by_zone_slots, _names = list_slots(
            runtime.db, runtime.clock, clinic["business"], clinic["visit"], window_in
        )
    with count_statements(runtime.db) as direct:
        direct_slots, _names = list_slots(
            runtime.db, runtime.clock, clinic["business"], clinic["visit"], TUESDAY
        )

    assert asked == ["America/New_York"]
    assert by_zone_slots == direct_slots
    assert len(by_zone) == len(direct)


def test_windows_are_bounded_and_unknowns_reported(runtime, clinic):
    year = Interval(TUESDAY.start, TUESDAY.start + timedelta(days=365))

    with pytest.raises(InvalidInput, match="at most"):
        list_slots(runtime.db, runtime.clock, clinic["business"], clinic["visit"], year)
    with pytest.raises(InvalidInput, match="at most"):
        list_slots(
            runtime.db, runtime.clock, clinic["business"], clinic["visit"], lambda _zone: year
        )
    with pytest.raises(NotFound):
        list_slots(runtime.db, runtime.clock, clinic["business"], "nope", TUESDAY)
    with pytest.raises(NotFound):
        staff_availability(runtime.db, clinic["business"], ["nobody"], TUESDAY)


def test_staff_availability_labels_the_day(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))

    items = staff_availability(runtime.db, clinic["business"], [clinic["ann"]], TUESDAY)

    labelled = [(item.status, _starts([item.interval])[0]) for item in items[clinic["ann"]]]
    assert labelled == [
        ("outOfOffice", "00:00"),
        ("available", "09:00"),
        ("busy", "09:50"),
        ("available", "10:40"),
        ("outOfOffice", "17:00"),
    ]
