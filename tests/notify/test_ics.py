"""Calendar files parse back with icalendar and say what calendar clients act on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import icalendar
import pytest

from openvisit.notify.ics import CalendarEvent, Person, appointment_uid, calendar_file, calendar_of

START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe moves to summer time


VISIT = CalendarEvent(
    uid=appointment_uid("abc", "clinic.example"),
    sequence=0,
    start=START,
    end=START + timedelta(minutes=30),
    summary="Video visit, Contoso Health",
    description="Manage your booking: https://clinic.example/manage/t",
    stamp=START - timedelta(days=3),
    url="https://clinic.example/manage/t",
    organizer=Person("Contoso; Health", "desk@clinic.example"),
    attendees=(Person("Ann, Berg", "ann@example.test"), Person(None, None)),
)


def visit(**changes: Any) -> CalendarEvent:
    return replace(VISIT, **changes)


def parsed(data: bytes):
    calendar = icalendar.Calendar.from_ical(data)
    return calendar, calendar.walk("VEVENT")[0]


def test_an_invitation_carries_a_stable_uid_utc_times_and_the_manage_link():
    calendar, event = parsed(calendar_file(visit(), "REQUEST"))
    assert calendar["method"] == "REQUEST"
    assert str(event["uid"]) == "abc@clinic.example"
    assert event.decoded("dtstart") == START
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == START + timedelta(minutes=30)
    assert event["sequence"] == 0
    assert str(event["url"]) == "https://clinic.example/manage/t"
    assert str(event["organizer"]) == "mailto:desk@clinic.example"
    assert event["organizer"].params["CN"] == "Contoso; Health"
    attendees = event["attendee"]
    assert str(attendees) == "mailto:ann@example.test"  # one attendee: the one with an address
    assert str(event["status"]) == "CONFIRMED"


def test_a_reschedule_raises_the_sequence_and_a_cancel_says_cancel():
    _calendar, moved = parsed(calendar_file(visit(sequence=1), "REQUEST"))
    assert moved["sequence"] == 1
    calendar, cancelled = parsed(calendar_file(visit(sequence=2, cancelled=True), "CANCEL"))
    assert calendar["method"] == "CANCEL"
    assert str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["uid"]) == "abc@clinic.example"


def test_times_given_in_any_zone_are_written_in_utc():
    kolkata = timezone(timedelta(hours=5, minutes=30))
    _calendar, event = parsed(calendar_file(visit(start=START.astimezone(kolkata)), "PUBLISH"))
    assert b"DTSTART:20260329T003000Z" in calendar_file(visit(), "PUBLISH")
    assert event.decoded("dtstart") == START


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        calendar_file(visit(start=datetime(2026, 3, 29, 0, 30)), "REQUEST")  # noqa: DTZ001


def test_a_feed_holds_many_events_and_no_method():
    data = calendar_of([visit(), visit(uid="def@clinic.example")], method=None, name="Dr. Who")
    calendar = icalendar.Calendar.from_ical(data)
    assert "method" not in calendar
    assert str(calendar["x-wr-calname"]) == "Dr. Who"
    assert [str(event["uid"]) for event in calendar.walk("VEVENT")] == [
        "abc@clinic.example",
        "def@clinic.example",
    ]
