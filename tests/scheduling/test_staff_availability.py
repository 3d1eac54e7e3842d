from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.slots import Booking
from openvisit.scheduling.staff_availability import availability_items

DAY = datetime(2026, 6, 2, tzinfo=UTC)


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def span(start: float, end: float) -> Interval:
    return Interval(at(start), at(end))


def test_each_instant_gets_one_status():
    bookings = [
        Booking("ann", "visit", at(10), at(11), timedelta(minutes=15), timedelta(minutes=15)),
        Booking("ann", "class", at(13), at(14), seats=1),
        Booking("ann", "class", at(15), at(16), seats=3),
        Booking("ann", "visit", at(18.5), at(19)),  # booked by a manager after hours
    ]

    items = availability_items([span(9, 17)], bookings, span(8, 20), capacity={"class": 3})

    assert [(i.interval, i.status, i.service_id) for i in items] == [
        (span(8, 9), "outOfOffice", None),
        (span(9, 9.75), "available", None),
        (span(9.75, 11.25), "busy", None),
        (span(11.25, 13), "available", None),
        (span(13, 14), "slotsAvailable", "class"),
        (span(14, 15), "available", None),
        (span(15, 16), "busy", None),
        (span(16, 17), "available", None),
        (span(17, 18.5), "outOfOffice", None),
        (span(18.5, 19), "busy", None),
        (span(19, 20), "outOfOffice", None),
    ]


hours = st.integers(min_value=0, max_value=23)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    working=st.lists(st.tuples(hours, st.integers(1, 6)), max_size=3),
    booked=st.lists(
        st.tuples(hours, st.integers(1, 3), st.sampled_from(["visit", "class"]), st.integers(1, 3)),
        max_size=4,
    ),
)
def test_the_labels_tile_the_window_exactly(working, booked):
    window = span(0, 24)
    bookings = [
        Booking("ann", service, at(start), at(min(start + length, 24)), seats=seats)
        for start, length, service, seats in booked
        if start < 24
    ]

    items = availability_items(
        [span(s, min(s + n, 24)) for s, n in working if s < 24],
        bookings,
        window,
        capacity={"class": 3},
    )

    covered = sum((item.interval.duration for item in items), timedelta(0))
    assert covered == window.duration
    for earlier, later in pairwise(items):
        assert earlier.interval.end <= later.interval.start
