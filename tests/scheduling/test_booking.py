from datetime import UTC, datetime, timedelta

import pytest

from openvisit.scheduling.booking import group_key, refusal, seats_free
from openvisit.scheduling.intervals import Interval
from openvisit.scheduling.policy import BookingPolicy
from openvisit.scheduling.slots import Booking, ServiceSpec

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
VISIT = ServiceSpec("visit", timedelta(minutes=30), timedelta(minutes=10), timedelta(minutes=10))
GROUP = ServiceSpec("group", HOUR, capacity=3)
WORKDAY = [Interval(AT.replace(hour=9), AT.replace(hour=17))]


def _booking(service: ServiceSpec, start: datetime, seats: int = 1) -> Booking:
    return Booking(
        "ann",
        service.id,
        start,
        start + service.duration,
        service.pre_buffer,
        service.post_buffer,
        seats,
    )


def test_buffers_of_both_sides_keep_appointments_apart():
    existing = [_booking(VISIT, AT)]

    assert seats_free(VISIT, AT + timedelta(minutes=45), AT + timedelta(minutes=75), existing) == 0
    assert seats_free(VISIT, AT + timedelta(minutes=50), AT + timedelta(minutes=80), existing) == 1


def test_a_group_sitting_counts_seats_and_other_times_block():
    taken = [_booking(GROUP, AT, seats=2)]

    assert seats_free(GROUP, AT, AT + HOUR, taken) == 1
    assert seats_free(GROUP, AT, AT + HOUR, [*taken, _booking(GROUP, AT)]) == 0
    assert seats_free(GROUP, AT + timedelta(minutes=30), AT + timedelta(minutes=90), taken) == 0


@pytest.mark.parametrize(
    ("start", "policy", "working", "expected"),
    [
        (AT, BookingPolicy(), WORKDAY, None),
        (AT, BookingPolicy(minimum_lead_time=timedelta(days=2)), WORKDAY, "minimum lead time"),
        (AT, BookingPolicy(maximum_advance=HOUR), WORKDAY, "maximum advance"),
        (
            AT,
            BookingPolicy(minimum_lead_time=timedelta(days=3), maximum_advance=timedelta(days=2)),
            WORKDAY,
            "minimum lead time",
        ),
        (AT.replace(hour=17), BookingPolicy(), WORKDAY, "outside working hours"),
        (AT.replace(hour=17), None, None, None),  # a manager override
    ],
)
def test_refusal_names_the_rule(start, policy, working, expected):
    reason = refusal(
        VISIT, start, start + VISIT.duration, [], working=working, policy=policy, now=NOW
    )

    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert expected in reason


def test_overlap_is_refused_even_for_a_manager():
    reason = refusal(
        VISIT, AT, AT + VISIT.duration, [_booking(VISIT, AT)], working=None, policy=None, now=NOW
    )

    assert reason == "the time is already booked"


def test_group_key_names_one_sitting():
    assert group_key("g", AT, AT + HOUR) == group_key("g", AT, AT + HOUR)
    assert group_key("g", AT, AT + HOUR) != group_key("g", AT + HOUR, AT + 2 * HOUR)
