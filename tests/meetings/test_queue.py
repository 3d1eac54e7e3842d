"""The waiting room's queue, with numbers: order, positions and estimated waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openvisit.meetings.queue import (
    MINIMUM_REMAINING,
    CallInProgress,
    Place,
    Waiter,
    expected_length,
    places,
)
from openvisit.meetings.waiting import shown_wait

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def waiter(name: str, start_minutes: int, arrived_minutes: int, expected: int = 20) -> Waiter:
    return Waiter(
        name, f"m-{name}", NOW + start_minutes * MIN, NOW + arrived_minutes * MIN, expected * MIN
    )


def test_the_average_of_recent_real_calls_beats_the_schedule() -> None:
    assert expected_length([12 * MIN, 18 * MIN], 30 * MIN) == 15 * MIN
    assert expected_length([], 30 * MIN) == 30 * MIN
    assert expected_length([timedelta(0)], 30 * MIN) == 30 * MIN  # no real length: schedule
    assert expected_length([10 * MIN] * 10 + [100 * MIN], 30 * MIN) == 10 * MIN  # the latest ten


def test_order_is_appointment_start_then_arrival() -> None:
    queue = places(
        [waiter("late-slot-early", 30, -20), waiter("b", 0, -2), waiter("a", 0, -5)], now=NOW
    )
    assert {name: place.position for name, place in queue.items()} == {
        "a": 1,
        "b": 2,
        "late-slot-early": 3,
    }


def test_the_wait_adds_the_call_in_progress_the_calls_ahead_and_lateness() -> None:
    in_progress = CallInProgress(started_at=NOW - 5 * MIN, expected=15 * MIN)
    queue = places(
        [waiter("a", -10, -12, expected=20), waiter("b", -5, -6, expected=25), waiter("c", 0, -1)],
        now=NOW,
        in_progress=in_progress,
        late_minutes=5,
    )
    # 5 late + 10 left of the current call; then a's 20; then b's 25.
    assert queue["a"] == Place(1, 15 * 60)
    assert queue["b"] == Place(2, 35 * 60)
    assert queue["c"] == Place(3, 60 * 60)


def test_a_call_past_its_expected_length_still_counts_a_minute() -> None:
    in_progress = CallInProgress(started_at=NOW - 40 * MIN, expected=15 * MIN)
    queue = places([waiter("a", -10, -12)], now=NOW, in_progress=in_progress)
    assert queue["a"].estimated_wait_seconds == MINIMUM_REMAINING.total_seconds()


def test_nobody_is_seen_before_their_time_and_that_pushes_back_the_next() -> None:
    queue = places([waiter("early", 45, -1, expected=20), waiter("next", 50, 0)], now=NOW)
    assert queue["early"].estimated_wait_seconds == 45 * 60
    assert queue["next"].estimated_wait_seconds == 65 * 60  # after early's 20 minutes


def test_an_empty_room_has_no_places() -> None:
    assert places([], now=NOW) == {}


def test_the_waiting_room_shows_an_estimate_to_the_minute() -> None:
    # As the page words it: under a minute, else whole minutes rounded half up.
    assert [shown_wait(s) for s in (0, 59, 60, 89, 90, 149, 3600)] == [0, 0, 60, 60, 120, 120, 3600]
