"""The compact slot listing through the service layer (both backends).

What a booking page relies on: each start once with the number of free staff (seats for
a group), every rule of the booking path applied, and a listed start really bookable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from openvisit.bookings import appointments
from openvisit.bookings.availability import list_slots
from openvisit.bookings.outcomes import SlotRefused
from openvisit.bookings.slot_listing import SlotListing, list_slot_counts
from openvisit.errors import InvalidInput, NotFound
from openvisit.runtime import Runtime
from openvisit.scheduling.intervals import Interval
from tests.bookings.clinic import (
    CONSUMER,
    MANAGER,
    TUESDAY_10,
    WEEKDAY_HOURS,
    Clinic,
    book_at,
    make_clinic,
)
from tests.bookings.test_query_plans import _add_history, _analyze, _check, _holds_reads, _reads
from tests.databases import count_statements
from tests.factories import make_business, make_service, make_staff

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY = Interval(datetime(2026, 11, 24, 5, tzinfo=UTC), datetime(2026, 11, 25, 5, tzinfo=UTC))
H = timedelta(hours=1)


def _local(day: datetime, hour: float) -> datetime:
    """`hour` o'clock New York time on `day`'s date."""
    midnight = datetime.combine(day.date(), datetime.min.time(), tzinfo=NEW_YORK)
    return (midnight + timedelta(hours=hour)).astimezone(UTC)


def _listing(
    runtime: Runtime,
    clinic: Clinic,
    window: Interval | Callable[[str], Interval] = TUESDAY,
    service: str = "visit",
    **kwargs: Any,
) -> SlotListing:
    return list_slot_counts(
        runtime.db, runtime.clock, clinic["business"], clinic[service], window, **kwargs
    )


def _counts(listing) -> dict[datetime, int]:
    return {item.start: item.free_staff for item in listing.starts}


def test_each_start_once_with_the_staff_free_then(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))  # Tuesday 10:00-10:30, buffers 09:50-10:40

    counts = _counts(_listing(runtime, clinic))

    day = TUESDAY_10
    assert counts[_local(day, 9)] == 2
    # Ann's buffered 09:50-10:40 rules her out from 09:30 to 10:30; Bob stays free.
    assert counts[_local(day, 9.5)] == 1
    assert counts[TUESDAY_10] == 1
    assert counts[_local(day, 10.5)] == 1
    assert counts[_local(day, 11)] == 2
    assert max(counts) == _local(day, 16.5)  # the last 30 minutes before 17:00
    assert len(counts) == 16


def test_a_start_disappears_once_everyone_is_booked(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))
    assert TUESDAY_10 in _counts(_listing(runtime, clinic))

    book_at(runtime, clinic, staff=("bob",))

    assert TUESDAY_10 not in _counts(_listing(runtime, clinic))


def test_the_same_starts_and_staff_as_the_full_slot_listing(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))
    book_at(runtime, clinic, start=TUESDAY_10 + 3 * H, staff=("bob",))
    week = Interval(TUESDAY.start, TUESDAY.start + timedelta(days=7))

    listing = _listing(runtime, clinic, week, include_staff_ids=True)
    slots, _names = list_slots(runtime.db, runtime.clock, clinic["business"], clinic["visit"], week)

    assert [(item.start, item.staff_ids) for item in listing.starts] == [
        (slot.start, tuple(option.staff_id for option in slot.staff)) for slot in slots
    ]


def test_no_start_sooner_than_the_lead_time_or_later_than_the_advance(runtime, clinic):
    # The clock is Monday 09:00 New York; the lead time is 2 hours, the advance 30 days.
    now = runtime.clock.now()
    monday = _listing(runtime, clinic, Interval(now - 9 * H, now + 15 * H))
    far = _listing(runtime, clinic, Interval(now + timedelta(days=29), now + timedelta(days=33)))

    assert min(_counts(monday)) == _local(now, 11)
    assert max(_counts(far)) <= now + timedelta(days=30)
    assert _counts(far)  # the last days inside the advance are listed


def test_a_group_lists_free_seats_and_the_largest_party(runtime, clinic):
    book_at(runtime, clinic, service="group", customers=({"name": "a"},))  # 10:00, 1 of 3

    starts = {item.start: item for item in _listing(runtime, clinic, service="group").starts}

    sitting = starts[TUESDAY_10]
    assert (sitting.free_staff, sitting.free_seats, sitting.largest_party) == (1, 2, 2)
    fresh = starts[_local(TUESDAY_10, 12)]
    assert (fresh.free_staff, fresh.free_seats, fresh.largest_party) == (1, 3, 3)
    assert _local(TUESDAY_10, 9.5) not in starts  # it would overlap the sitting
    assert starts[_local(TUESDAY_10, 9)].free_seats == 3  # it ends as the sitting starts


def test_a_full_group_sitting_is_not_listed(runtime, clinic):
    book_at(
        runtime, clinic, service="group", customers=({"name": "a"}, {"name": "b"}, {"name": "c"})
    )

    assert TUESDAY_10 not in _counts(_listing(runtime, clinic, service="group"))


def test_staff_ids_only_when_asked(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))

    plain = _listing(runtime, clinic)
    named = _listing(runtime, clinic, include_staff_ids=True)

    assert all(item.staff_ids == () for item in plain.starts)
    by_start = {item.start: item.staff_ids for item in named.starts}
    assert by_start[TUESDAY_10] == (clinic["bob"],)
    assert by_start[_local(TUESDAY_10, 9)] == (clinic["ann"], clinic["bob"])


def test_one_staff_member(runtime, clinic):
    book_at(runtime, clinic, staff=("ann",))

    counts = _counts(_listing(runtime, clinic, staff_id=clinic["ann"]))

    assert TUESDAY_10 not in counts
    assert set(counts.values()) == {1}


def test_windows_are_bounded(runtime, clinic):
    start = TUESDAY.start
    with pytest.raises(InvalidInput, match="62 days"):
        _listing(runtime, clinic, Interval(start, start + timedelta(days=63)))
    with pytest.raises(InvalidInput, match="with includeStaffIds spans at most 7 days"):
        _listing(
            runtime, clinic, Interval(start, start + timedelta(days=8)), include_staff_ids=True
        )
    with pytest.raises(InvalidInput, match="62 days"):
        _listing(runtime, clinic, lambda _zone: Interval(start, start + timedelta(days=63)))
    assert _listing(runtime, clinic, Interval(start, start + timedelta(days=62))).starts


def test_unknown_business_service_or_staff(runtime, clinic):
    with pytest.raises(NotFound):
        list_slot_counts(runtime.db, runtime.clock, "nobody@x.test", clinic["visit"], TUESDAY)
    with pytest.raises(NotFound):
        list_slot_counts(runtime.db, runtime.clock, clinic["business"], "no-such", TUESDAY)
    with pytest.raises(NotFound):
        _listing(runtime, clinic, staff_id="no-such")


def test_four_statements_whatever_the_staff_and_days(runtime, clinic):
    for n in range(5):
        make_staff(runtime, clinic["business"], f"Dr. Extra{n}")
    service = make_service(runtime, clinic["business"], "Anyone")  # no staff list: everyone
    month = Interval(TUESDAY.start, TUESDAY.start + timedelta(days=30))

    with count_statements(runtime.db) as statements:
        listing = list_slot_counts(runtime.db, runtime.clock, clinic["business"], service, month)

    assert max(item.free_staff for item in listing.starts) == 7
    assert len([s for s in statements if s.startswith("SELECT")]) == 4, statements


def test_hours_change_with_daylight_saving_time(runtime, clinic):
    # 2027-03-14 New York springs forward: 09:00 is 14:00Z before, 13:00Z after.
    runtime.clock.advance(datetime(2027, 3, 10, 14, tzinfo=UTC) - runtime.clock.now())
    week = Interval(datetime(2027, 3, 12, 5, tzinfo=UTC), datetime(2027, 3, 16, 4, tzinfo=UTC))

    starts = sorted(_counts(_listing(runtime, clinic, week)))

    friday = [s for s in starts if s.day == 12]
    monday = [s for s in starts if s.day == 15]
    assert (friday[0], friday[-1]) == (
        datetime(2027, 3, 12, 14, tzinfo=UTC),
        datetime(2027, 3, 12, 21, 30, tzinfo=UTC),
    )
    assert (monday[0], monday[-1]) == (
        datetime(2027, 3, 15, 13, tzinfo=UTC),
        datetime(2027, 3, 15, 20, 30, tzinfo=UTC),
    )
    assert len(friday) == len(monday) == 16
    assert not [s for s in starts if s.day in (13, 14)]  # the weekend is closed


def test_a_half_hour_zone(runtime):
    business = make_business(
        runtime,
        business_hours=WEEKDAY_HOURS,
        booking_page_settings={"businessTimeZone": "Asia/Kolkata"},
        scheduling_policy={"timeSlotInterval": "PT1H", "maximumAdvance": "P30D"},
    )
    make_staff(runtime, business, "Dr. Rao")
    service = make_service(runtime, business, "Visit")
    day = Interval(datetime(2026, 11, 24, 0, tzinfo=UTC), datetime(2026, 11, 25, 0, tzinfo=UTC))

    listing = list_slot_counts(runtime.db, runtime.clock, business, service, day)

    starts = [item.start for item in listing.starts]
    # 09:00 India time is 03:30Z; hourly starts follow the half hour all day.
    assert starts[0] == datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # 16:00-16:30... 17:00
    assert listing.time_zone == "Asia/Kolkata"


# --- every listed start can be booked, and every bookable start is listed ----------------

PROPERTY = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],  # every example books dozens of times
)
STAFF_OF = {"visit": ("ann", "bob"), "group": ("ann",)}
existing = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob"]),
        st.sampled_from(["visit", "group"]),
        st.integers(7 * 12, 18 * 12),  # five-minute steps of the day, New York time
    ),
    max_size=6,
)


@PROPERTY
@given(existing=existing, service=st.sampled_from(["visit", "group"]), monday=st.booleans())
def test_listed_starts_are_exactly_the_bookable_ones(runtime, existing, service, monday):
    clinic = make_clinic(runtime)
    day = TUESDAY_10 - timedelta(days=1) if monday else TUESDAY_10
    for staff, kind, step in existing:
        # A manager's bookings, anywhere: some collide and are refused, as they may be.
        with contextlib.suppress(SlotRefused):
            book_at(runtime, clinic, _local(day, step / 12), (staff,), kind, authority=MANAGER)
    window = Interval(_local(day, 0), _local(day, 24))

    listing = _listing(runtime, clinic, window, service=service, include_staff_ids=True)

    listed = {(item.start, staff) for item in listing.starts for staff in item.staff_ids}
    bookable = set()
    for half_hour in range(14, 38):  # 07:00 to 18:30 on the 30-minute grid
        start = _local(day, half_hour / 2)
        for name in STAFF_OF[service]:  # (the booking path takes others when named)
            if _books(runtime, clinic, service, start, clinic[name]):
                bookable.add((start, clinic[name]))
    assert listed == bookable
    assert all(item.free_staff == len(item.staff_ids) for item in listing.starts)


def _books(runtime, clinic, service, start, staff_id) -> bool:
    """Whether a customer can book it; the appointment is deleted again at once."""
    request = appointments.AppointmentRequest(
        service_id=clinic[service], start=start, staff_ids=(staff_id,)
    )
    try:
        made = appointments.book(
            runtime.db, runtime.clock, clinic["business"], request, authority=CONSUMER
        )
    except SlotRefused:
        return False
    appointments.delete(
        runtime.db,
        runtime.clock,
        clinic["business"],
        made.id,
        actor="test",
        documents=runtime.documents,
    )
    return True


@pytest.mark.parametrize("service", ["visit", "group"])
def test_reads_staff_time_from_the_window_on(runtime, clinic, service, monkeypatch):
    # The same plan check as the booking path's (test_query_plans.py), with its history.
    _add_history(runtime.db, clinic["business"], [clinic["ann"], clinic["bob"]])
    _analyze(runtime.db)

    with _reads(runtime.db, monkeypatch) as reads:
        _listing(runtime, clinic, service=service)

    holds = _holds_reads(reads)
    assert len(holds) == (2 if service == "group" else 1)  # a group's sittings apart
    _check(runtime.db, holds)
