from datetime import UTC, datetime, timedelta

import pytest

from openvisit.bookings.timezones import UnknownTimeZone, check_time_zone, resolve_zone


@pytest.mark.parametrize(
    ("name", "iana"),
    [
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("pacific standard time", "America/Los_Angeles"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Nepal Standard Time", "Asia/Katmandu"),
        ("Lord Howe Standard Time", "Australia/Lord_Howe"),
        ("UTC", "UTC"),
        ("Asia/Kolkata", "Asia/Kolkata"),
    ],
)
def test_windows_and_iana_names_resolve(name, iana):
    assert resolve_zone(name).key == iana


def test_india_maps_to_a_zone_at_plus_five_thirty():
    local = datetime(2026, 1, 1, tzinfo=UTC).astimezone(resolve_zone("India Standard Time"))
    assert local.utcoffset() == timedelta(hours=5, minutes=30)


@pytest.mark.parametrize("name", ["Mars/Olympus", "Pacific Time", "", "../etc/passwd"])
def test_unknown_names_are_refused(name):
    with pytest.raises(UnknownTimeZone):
        check_time_zone(name)


def test_names_are_kept_as_written():
    assert check_time_zone("Pacific Standard Time") == "Pacific Standard Time"
