from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvisit.scheduling.isotime import (
    InvalidIsoValue,
    format_duration,
    format_time_of_day,
    parse_duration,
    parse_time_of_day,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT30M", timedelta(minutes=30)),
        ("P1D", timedelta(days=1)),
        ("PT0S", timedelta(0)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("P2W", timedelta(days=14)),
        ("-PT5M", timedelta(minutes=-5)),
        ("0:30:00", timedelta(minutes=30)),  # str(timedelta), as msgraph-sdk sends it
        ("1 day, 2:00:00", timedelta(days=1, hours=2)),
        ("2 days, 0:00:00", timedelta(days=2)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "30 minutes", "P1H", "PTM", "1:2", "T1H"])
def test_parse_duration_refuses_non_durations(text):
    with pytest.raises(InvalidIsoValue):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(minutes=30), "PT30M"),
        (timedelta(days=365), "P365D"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(seconds=90.25), "PT1M30.25S"),
    ],
)
def test_format_duration_matches_graph(delta, text):
    assert format_duration(delta) == text


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_duration_round_trips(delta):
    assert parse_duration(format_duration(delta)) == delta
    assert parse_duration(str(delta)) == delta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:00:00.0000000", time(8)),
        ("17:30", time(17, 30)),
        ("23:59:59", time(23, 59, 59)),
        ("00:00:00.5000000", time(0, 0, 0, 500000)),
    ],
)
def test_time_of_day(text, expected):
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["24:00:00", "8:00", "12:60", "noon", "12:00:00.12345678"])
def test_time_of_day_refuses_nonsense(text):
    with pytest.raises(InvalidIsoValue):
        parse_time_of_day(text)


def test_time_of_day_formats_with_seven_digits():
    assert format_time_of_day(time(9, 5)) == "09:05:00.0000000"
