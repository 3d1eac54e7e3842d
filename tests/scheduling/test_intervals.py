"""Interval algebra: unit cases and properties over integer-minute intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvisit.scheduling.intervals import Interval, clip, intersect, merge, subtract

EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def at(minute: float) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def iv(start: int, end: int) -> Interval:
    return Interval(at(start), at(end))


def spans(intervals: list[Interval]) -> list[tuple[int, int]]:
    return [
        ((i.start - EPOCH) // timedelta(minutes=1), (i.end - EPOCH) // timedelta(minutes=1))
        for i in intervals
    ]


def covers(intervals: list[Interval], instant: datetime) -> bool:
    return any(i.start <= instant < i.end for i in intervals)


def samples(*groups: list[Interval]) -> list[datetime]:
    """Every whole and half minute around the endpoints: enough to tell integer-minute sets
    apart, since membership is constant on each open half-minute between endpoints."""
    points = [i.start for g in groups for i in g] + [i.end for g in groups for i in g]
    if not points:
        return [EPOCH]
    low = (min(points) - EPOCH) // timedelta(minutes=1) - 1
    high = (max(points) - EPOCH) // timedelta(minutes=1) + 1
    return [at(half / 2) for half in range(2 * low, 2 * high + 1)]


def assert_canonical(intervals: list[Interval]) -> None:
    """Sorted, disjoint and non-touching: the shape every function promises."""
    for before, after in pairwise(intervals):
        assert before.end < after.start


intervals_st = st.lists(
    st.tuples(st.integers(0, 600), st.integers(1, 120)).map(lambda p: iv(p[0], p[0] + p[1])),
    max_size=8,
)


# --- Interval itself -------------------------------------------------------------------


def test_interval_duration_overlaps_and_contains():
    a = iv(0, 60)
    assert a.duration == timedelta(hours=1)
    assert a.overlaps(iv(59, 90))
    assert iv(59, 90).overlaps(a)
    assert not a.overlaps(iv(60, 90)), "touching ends do not overlap"
    assert not iv(60, 90).overlaps(a)
    assert a.contains(iv(0, 60))
    assert a.contains(iv(10, 20))
    assert not a.contains(iv(10, 61))
    assert not a.contains(iv(-1, 10))


def test_interval_compares_instants_across_zones():
    kolkata = ZoneInfo("Asia/Kolkata")
    local = Interval(at(0).astimezone(kolkata), at(30).astimezone(kolkata))
    assert local == iv(0, 30)
    assert merge([local, iv(30, 60)]) == [iv(0, 60)]


def test_interval_holds_utc_even_across_a_fall_back_in_its_own_zone():
    """01:45 EDT .. 01:30 EST is 45 real minutes, though its wall clock runs backwards."""
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 1, 5, 45, tzinfo=UTC).astimezone(new_york)
    end = datetime(2026, 11, 1, 6, 30, tzinfo=UTC).astimezone(new_york)
    interval = Interval(start, end)
    assert interval.duration == timedelta(minutes=45)
    assert interval.start.tzinfo is UTC
    assert interval.end.tzinfo is UTC
    assert Interval(at(0).astimezone(ZoneInfo("UTC")), at(1)).start.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10, tzinfo=UTC)),  # noqa: DTZ001
        (datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 10)),  # noqa: DTZ001
    ],
)
def test_interval_refuses_naive_datetimes(start, end):
    with pytest.raises(ValueError, match="aware"):
        Interval(start, end)


@pytest.mark.parametrize(("start", "end"), [(10, 10), (10, 9)])
def test_interval_refuses_empty_or_reversed(start, end):
    with pytest.raises(ValueError, match="end after it starts"):
        iv(start, end)


# --- merge -----------------------------------------------------------------------------


def test_merge_sorts_and_coalesces_overlapping_and_touching():
    result = merge([iv(50, 60), iv(0, 10), iv(5, 20), iv(20, 30), iv(40, 45)])
    assert spans(result) == [(0, 30), (40, 45), (50, 60)]


def test_merge_keeps_the_longer_of_nested_intervals():
    assert spans(merge([iv(0, 100), iv(10, 20), iv(90, 100)])) == [(0, 100)]


def test_merge_of_nothing_is_nothing():
    assert merge([]) == []


def test_merge_accepts_any_iterable():
    assert spans(merge(iv(s, s + 5) for s in (10, 0))) == [(0, 5), (10, 15)]


# --- intersect -------------------------------------------------------------------------


def test_intersect_overlapping_unsorted_inputs():
    left = [iv(30, 50), iv(0, 20), iv(10, 25)]
    right = [iv(15, 35), iv(45, 100)]
    assert spans(intersect(left, right)) == [(15, 25), (30, 35), (45, 50)]


def test_intersect_of_touching_intervals_is_empty():
    assert intersect([iv(0, 10)], [iv(10, 20)]) == []


def test_intersect_with_nothing_is_nothing():
    assert intersect([iv(0, 10)], []) == []
    assert intersect([], [iv(0, 10)]) == []


def test_intersect_one_long_interval_with_many_short_ones():
    assert spans(intersect([iv(0, 100)], [iv(10, 20), iv(30, 40), iv(90, 120)])) == [
        (10, 20),
        (30, 40),
        (90, 100),
    ]


# --- subtract --------------------------------------------------------------------------


def test_subtract_punches_holes():
    assert spans(subtract([iv(0, 100)], [iv(10, 20), iv(50, 60)])) == [
        (0, 10),
        (20, 50),
        (60, 100),
    ]


def test_subtract_holes_at_the_edges_and_beyond():
    assert spans(subtract([iv(0, 100)], [iv(-10, 5), iv(95, 200)])) == [(5, 95)]


def test_subtract_everything_leaves_nothing():
    assert subtract([iv(10, 20), iv(30, 40)], [iv(0, 50)]) == []


def test_subtract_one_hole_across_two_sources():
    assert spans(subtract([iv(0, 10), iv(20, 30)], [iv(5, 25)])) == [(0, 5), (25, 30)]


def test_subtract_nothing_merges_the_source():
    assert spans(subtract([iv(10, 20), iv(0, 10)], [])) == [(0, 20)]


def test_subtract_skips_holes_that_end_before_the_source():
    assert spans(subtract([iv(100, 110)], [iv(0, 10), iv(20, 30), iv(105, 107)])) == [
        (100, 105),
        (107, 110),
    ]


def test_subtract_overlapping_holes():
    assert spans(subtract([iv(0, 100)], [iv(20, 60), iv(10, 30), iv(40, 50)])) == [
        (0, 10),
        (60, 100),
    ]


# --- clip ------------------------------------------------------------------------------


def test_clip_cuts_to_the_window():
    assert spans(clip([iv(0, 30), iv(40, 60), iv(90, 100)], iv(20, 50))) == [(20, 30), (40, 50)]


# --- properties ------------------------------------------------------------------------


@PROPERTY
@given(intervals_st)
def test_merge_is_canonical_and_covers_the_same_instants(intervals):
    merged = merge(intervals)
    assert_canonical(merged)
    for instant in samples(intervals):
        assert covers(merged, instant) == covers(intervals, instant)
    # Every endpoint of the result is an endpoint of the input.
    starts, ends = {i.start for i in intervals}, {i.end for i in intervals}
    assert all(i.start in starts and i.end in ends for i in merged)
    assert merge(merged) == merged


@PROPERTY
@given(intervals_st, intervals_st)
def test_intersect_is_commutative_and_inside_both(left, right):
    both = intersect(left, right)
    assert both == intersect(right, left)
    assert_canonical(both)
    for instant in samples(left, right):
        assert covers(both, instant) == (covers(left, instant) and covers(right, instant))
    assert intersect(both, left) == both
    assert intersect(both, right) == both


@PROPERTY
@given(intervals_st, intervals_st)
def test_subtract_removes_exactly_the_holes(source, removed):
    rest = subtract(source, removed)
    assert_canonical(rest)
    assert intersect(rest, removed) == []
    assert merge(rest + intersect(source, removed)) == merge(source)
    for instant in samples(source, removed):
        assert covers(rest, instant) == (covers(source, instant) and not covers(removed, instant))


@PROPERTY
@given(intervals_st, st.integers(0, 600), st.integers(1, 300))
def test_clip_stays_within_the_window(intervals, start, length):
    window = iv(start, start + length)
    clipped = clip(intervals, window)
    assert_canonical(clipped)
    assert all(window.contains(i) for i in clipped)
    for instant in samples(intervals, [window]):
        assert covers(clipped, instant) == (
            covers(intervals, instant) and window.start <= instant < window.end
        )
