"""A staff member's calendar feed, as a calendar app that subscribed to it reads it.

The feed is fetched over HTTP and parsed with icalendar, as a calendar client would:
booked appointments appear with their UID, times and SEQUENCE; a moved one keeps its UID
and shows its new time; a cancelled one disappears; a revoked or replaced URL is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvisit.bookings import calendar_feeds
from openvisit.bookings.appointments import AppointmentRequest, cancel, reschedule
from openvisit.bookings.views import AppointmentView
from openvisit.notify.ics import appointment_uid
from openvisit.redact import redact
from openvisit.runtime import Runtime
from openvisit.store.models import CalendarFeed
from tests.bookings.clinic import CONSUMER, MANAGER, TUESDAY_10, Clinic, book_at, make_clinic
from tests.factories import make_staff

JO = {"name": "Jo Lee", "emailAddress": "jo@example.test", "notes": "Knee, left"}


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    return make_clinic(runtime)


def subscribe(runtime: Runtime, clinic: Clinic, staff: str = "ann") -> str:
    """A new feed for the staff member; its path on the server."""
    made = calendar_feeds.create_feed(
        runtime.db, runtime.clock, clinic["business"], clinic[staff], actor="test"
    )
    return calendar_feeds.feed_path(made.token)


def fetch(client: TestClient, path: str) -> icalendar.Calendar:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events(calendar: icalendar.Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(runtime: Runtime, appointment: AppointmentView) -> str:
    return appointment_uid(appointment.id, runtime.business_id_domain)


def test_the_feed_lists_the_staff_members_booked_appointments(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    visit = book_at(runtime, clinic, customers=(JO,), details={"serviceNotes": "Bring the X-ray"})
    bobs = book_at(runtime, clinic, staff=("bob",))

    calendar = fetch(client, path)

    assert str(calendar["X-WR-CALNAME"]) == "Dr. Ann (Contoso Health)"
    assert str(calendar["METHOD"]) == "PUBLISH"
    found = events(calendar)
    assert list(found) == [uid(runtime, visit)]
    assert uid(runtime, bobs) not in found
    event = found[uid(runtime, visit)]
    assert event.decoded("DTSTART") == TUESDAY_10
    assert event.decoded("DTEND") == TUESDAY_10 + timedelta(minutes=30)
    assert event["DTSTART"].to_ical() == b"20261124T150000Z"
    assert str(event["SUMMARY"]) == "Visit: Jo Lee"
    assert str(event["DESCRIPTION"]) == "Bring the X-ray\nJo Lee: Knee, left"
    assert event["SEQUENCE"] == 0
    # Nothing in the feed is a key to anything else: no links, no e-mail addresses.
    text = client.get(path).text
    assert "URL" not in event and "http" not in text and "jo@example.test" not in text


def test_a_moved_appointment_keeps_its_uid_and_shows_its_new_time(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    visit = book_at(runtime, clinic)
    later = TUESDAY_10 + timedelta(hours=2)

    moved = reschedule(
        runtime.db,
        runtime.clock,
        clinic["business"],
        visit.id,
        AppointmentRequest(service_id=clinic["visit"], start=later, staff_ids=(clinic["ann"],)),
        authority=CONSUMER,
    )

    [event] = events(fetch(client, path)).values()
    assert str(event["UID"]) == uid(runtime, visit)
    assert event.decoded("DTSTART") == later
    assert event["SEQUENCE"] == moved.ical_sequence
    assert event.decoded("DTSTAMP") == moved.last_updated_date_time


def test_a_cancelled_appointment_disappears(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    kept = book_at(runtime, clinic)
    gone = book_at(runtime, clinic, start=TUESDAY_10 + timedelta(hours=3))

    cancel(runtime.db, runtime.clock, clinic["business"], gone.id, "Ill", authority=CONSUMER)

    assert list(events(fetch(client, path))) == [uid(runtime, kept)]


def test_a_reassigned_appointment_moves_to_the_other_feed(runtime, client, clinic):
    anns, bobs = subscribe(runtime, clinic, "ann"), subscribe(runtime, clinic, "bob")
    visit = book_at(runtime, clinic)

    reschedule(
        runtime.db,
        runtime.clock,
        clinic["business"],
        visit.id,
        AppointmentRequest(
            service_id=clinic["visit"], start=TUESDAY_10, staff_ids=(clinic["bob"],)
        ),
        authority=CONSUMER,
    )

    assert events(fetch(client, anns)) == {}
    assert list(events(fetch(client, bobs))) == [uid(runtime, visit)]


def test_the_feed_spans_thirty_days_back_to_a_year_ahead(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    inside = [book_at(runtime, clinic, start=TUESDAY_10 + timedelta(days=days)) for days in (0, 7)]
    # Beyond the policy's advance, as a manager may book: one inside the year, one past it.
    ahead = [
        book_at(runtime, clinic, start=TUESDAY_10 + timedelta(days=days), authority=MANAGER)
        for days in (363, 366)
    ]
    assert set(events(fetch(client, path))) == {uid(runtime, item) for item in [*inside, ahead[0]]}
    # Time passes: the first visit is now 29 days old, the second 22.
    runtime.clock.advance(TUESDAY_10 + timedelta(days=29) - runtime.clock.now())
    assert set(events(fetch(client, path))) == {uid(runtime, item) for item in [*inside, *ahead]}

    runtime.clock.advance(timedelta(days=2))  # 31 days after the first
    assert set(events(fetch(client, path))) == {uid(runtime, item) for item in [inside[1], *ahead]}


def test_an_unknown_token_and_a_revoked_one_answer_the_same_404(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    calendar_feeds.revoke_feed(
        runtime.db, runtime.clock, clinic["business"], clinic["ann"], actor="test"
    )

    for probe in (path, "/feeds/staff/ovf_guessed.ics", "/feeds/staff/anything.ics"):
        response = client.get(probe)
        assert (response.status_code, response.text) == (404, "No calendar feed at this address.\n")


def test_rotation_replaces_the_url(runtime, client, clinic):
    old = subscribe(runtime, clinic)
    new = subscribe(runtime, clinic)

    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_deleting_the_staff_member_ends_the_feed(runtime, client, clinic, auth):
    extra = make_staff(runtime, clinic["business"], "Dr. Cy")
    path = subscribe(runtime, {**clinic, "cy": extra}, "cy")

    deleted = client.delete(
        f"/v1.0/solutions/bookingBusinesses/{clinic['business']}/staffMembers/{extra}",
        headers=auth,
    )

    assert deleted.status_code == 204
    assert client.get(path).status_code == 404


def test_a_poll_with_the_etag_costs_no_body_until_something_changes(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    first = client.get(path)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, max-age=300"
    assert first.headers["x-robots-tag"] == "noindex"

    again = client.get(path, headers={"If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")

    book_at(runtime, clinic)
    changed = client.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag


def test_reads_are_noted_a_quarter_hour_apart(runtime, client, clinic):
    path = subscribe(runtime, clinic)

    def last_read() -> datetime | None:
        with runtime.db.read() as session:
            moment: datetime | None = session.scalar(select(CalendarFeed.last_read_date_time))
        return moment

    client.get(path)
    first = runtime.clock.now()
    assert last_read() == first
    runtime.clock.advance(timedelta(minutes=14))
    client.get(path)
    assert last_read() == first
    runtime.clock.advance(timedelta(minutes=1))
    client.get(path)
    assert last_read() == first + timedelta(minutes=15)


def test_only_a_digest_and_a_prefix_of_the_token_are_kept(runtime, clinic):
    made = calendar_feeds.create_feed(
        runtime.db, runtime.clock, clinic["business"], clinic["ann"], actor="test"
    )

    with runtime.db.read() as session:
        row = session.scalars(select(CalendarFeed)).one()
        stored = [str(value) for value in row.__dict__.values()]
    assert made.token not in " ".join(stored)
    assert row.token_prefix == made.token[:10] == made.info.prefix
    assert made.token.startswith("ovf_") and len(made.token) >= 40


def test_the_access_log_shows_no_feed_token():
    line = "GET /feeds/staff/ovf_Qx9-abc_DEF123.ics 200 1.2ms"

    assert redact(line) == "GET /feeds/staff/ovf_***.ics 200 1.2ms"


def test_a_group_sitting_shows_once_with_every_attendee(runtime, client, clinic):
    path = subscribe(runtime, clinic)
    sitting = TUESDAY_10.replace(hour=16)
    first = book_at(runtime, clinic, start=sitting, service="group", customers=(JO,))
    second = book_at(
        runtime, clinic, start=sitting, service="group", customers=({"name": "Ada Berg"},)
    )

    found = events(fetch(client, path))

    # Each booking is its own appointment (and its own UID) in Bookings' model.
    assert set(found) == {uid(runtime, first), uid(runtime, second)}
    assert {str(event["SUMMARY"]) for event in found.values()} == {
        "Group: Jo Lee",
        "Group: Ada Berg",
    }
