"""The manage link through the real app: view, reschedule, cancel, the change cutoff,
businesses that do not let customers manage bookings, and links that open nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from openvisit.bookings import records
from openvisit.bookings.services import SERVICES
from openvisit.runtime import Runtime
from openvisit.store.models import Appointment, AuditRecord
from tests.bookings.clinic import book_at
from tests.web.consumer.site import (
    book_through_page,
    csrf_of,
    hidden_of,
    make_site,
    page_csrf,
    slots_of,
)
from tests.web.consumer.site import token_of as token_in

START = "2026-11-24T15:00:00Z"  # Tuesday 10:00 in New York


@pytest.fixture
def site(runtime):
    return make_site(runtime)


@pytest.fixture
def token(client, site) -> str:
    booked = book_through_page(client, site, start=START, staff=site["ann"])
    assert booked.status_code == 303, booked.text
    return token_in(booked.headers["location"])


def stored(runtime: Runtime) -> Appointment:
    with runtime.db.read() as session:
        appointment = session.scalars(select(Appointment)).one()
        return appointment


def test_the_manage_page_shows_the_appointment_in_the_consumer_zone(client, token):
    page = client.get(f"/manage/{token}")

    assert page.status_code == 200
    assert "<h1>Your appointment</h1>" in page.text
    assert "Tuesday, November 24, 2026" in page.text
    assert "8:30\u202fPM \u2013 9:00\u202fPM" in page.text  # booked from Kolkata
    assert "Dr. Ann" in page.text
    assert f'href="/manage/{token}/reschedule"' in page.text
    assert f'href="/manage/{token}/cancel"' in page.text


def test_reschedule_moves_to_a_free_time(client, runtime, token):
    step = client.get(f"/manage/{token}/reschedule", params={"day": "2026-11-25"})
    assert step.status_code == 200
    new_start = "2026-11-25T16:00:00Z"
    assert new_start in slots_of(step)

    moved = client.post(
        f"/manage/{token}/reschedule",
        data={**hidden_of(step), "csrf_token": csrf_of(step), "start": new_start},
        follow_redirects=False,
    )

    assert moved.status_code == 303
    assert moved.headers["location"].endswith("?done=moved")
    appointment = stored(runtime)
    assert appointment.start_date_time == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert appointment.end_date_time == datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    assert appointment.customers[0]["name"] == "Priya Raman"  # answers and customer kept
    shown = client.get(moved.headers["location"])
    assert "Your appointment has been moved." in shown.text
    assert "Wednesday, November 25, 2026" in shown.text


def test_reschedule_offers_times_that_overlap_the_current_one(client, token):
    # The visit is 10:00-10:30 in New York; moving it half an hour later overlaps its own
    # time, which it frees by moving, so that time is offered.
    step = client.get(f"/manage/{token}/reschedule", params={"day": "2026-11-24"})
    later = "2026-11-24T15:30:00Z"
    assert later in slots_of(step)


def test_a_reschedule_after_a_change_elsewhere_is_refused_not_applied(
    client, runtime, clock, token
):
    step = client.get(f"/manage/{token}/reschedule", params={"day": "2026-11-25"})
    clock.advance(timedelta(minutes=1))  # the change below is later than the page's read
    form = {**hidden_of(step), "csrf_token": csrf_of(step), "start": "2026-11-25T16:00:00Z"}
    first = client.post(f"/manage/{token}/reschedule", data=form, follow_redirects=False)
    assert first.status_code == 303

    stale = client.post(
        f"/manage/{token}/reschedule",
        data={**form, "start": "2026-11-25T18:00:00Z"},
        follow_redirects=False,
    )

    assert stale.status_code == 409
    assert "Your appointment was changed in the meantime." in stale.text
    assert stored(runtime).start_date_time == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def test_reschedule_to_a_taken_time_offers_fresh_times(client, runtime, site, token):
    step = client.get(f"/manage/{token}/reschedule", params={"day": "2026-11-25"})
    book_at(runtime, site, datetime(2026, 11, 25, 16, 0, tzinfo=UTC), ("ann",))
    taken = client.post(
        f"/manage/{token}/reschedule",
        data={**hidden_of(step), "csrf_token": csrf_of(step), "start": "2026-11-25T16:00:00Z"},
        follow_redirects=False,
    )

    assert taken.status_code == 409
    assert "Sorry, that time is no longer free." in taken.text
    assert "2026-11-25T16:00:00Z" not in slots_of(taken)
    assert stored_start(runtime, "Priya Raman") == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def stored_start(runtime: Runtime, name: str) -> datetime:
    with runtime.db.read() as session:
        for appointment in session.scalars(select(Appointment)):
            if appointment.customers and appointment.customers[0].get("name") == name:
                start: datetime = appointment.start_date_time
                return start
    raise AssertionError(name)


def test_cancel_with_a_reason(client, runtime, site, token):
    form = client.get(f"/manage/{token}/cancel")
    assert 'name="reason"' in form.text

    cancelled = client.post(
        f"/manage/{token}/cancel",
        data={"csrf_token": csrf_of(form), "reason": "  I feel better  "},
        follow_redirects=False,
    )

    assert cancelled.status_code == 303
    appointment = stored(runtime)
    assert appointment.status == "cancelled"
    assert appointment.cancellation_message == "I feel better"
    page = client.get(f"/manage/{token}")
    assert "This appointment is cancelled." in page.text
    assert "Reason given: I feel better" in page.text
    assert f'href="/book/{site["business"]}/"' in page.text  # book again
    assert f'href="/manage/{token}/reschedule"' not in page.text
    with runtime.db.read() as session:
        actors = list(session.scalars(select(AuditRecord.actor)))
    assert "manageLink:testclient" in actors
    assert "bookingPage:testclient" in actors


def test_a_cancel_without_the_csrf_token_changes_nothing(client, runtime, token):
    refused = client.post(f"/manage/{token}/cancel", data={"csrf_token": "forged"})

    assert refused.status_code == 400
    assert stored(runtime).status == "booked"


def test_past_the_cutoff_the_page_says_why_and_whom_to_contact(client, runtime, site, token):
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        site["business"],
        site["visit"],
        {"change_cutoff_seconds": 2 * 24 * 3600},
        actor="test",
    )
    form = client.get(f"/manage/{token}")

    assert "changes close 2 days before it starts" in form.text
    assert 'href="tel:+1 212 555 0100"' in form.text
    assert 'href="mailto:desk@clinic.example"' in form.text
    assert f'href="/manage/{token}/cancel"' not in form.text
    assert client.get(f"/manage/{token}/cancel", follow_redirects=False).status_code == 303
    refused = client.post(f"/manage/{token}/cancel", data={"csrf_token": page_csrf(client)})
    assert refused.status_code == 409
    assert stored(runtime).status == "booked"


def test_a_business_that_keeps_changes_to_itself(client, runtime, site):
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        site["business"],
        site["visit"],
        {"is_customer_allowed_to_manage_booking": False},
        actor="test",
    )
    booked = book_through_page(client, site, start=START)
    token = token_in(booked.headers["location"])
    page = client.get(f"/manage/{token}")

    assert "This appointment cannot be changed or cancelled online." in page.text
    refused = client.post(f"/manage/{token}/cancel", data={"csrf_token": page_csrf(client)})
    assert refused.status_code == 409
    assert stored(runtime).status == "booked"


def test_links_that_open_nothing_show_nothing(client, runtime, clock, token):
    forged = client.get(f"/manage/{token[:-2]}xx")
    assert forged.status_code == 404
    assert "This link is not valid." in forged.text
    assert "Priya" not in forged.text and "Contoso" not in forged.text

    clock.advance(timedelta(days=32))  # 30 days after the appointment's end
    expired = client.get(f"/manage/{token}")
    assert expired.status_code == 404
    assert "This link has expired." in expired.text
    assert "Contoso" not in expired.text


def test_add_to_calendar_is_the_event_with_its_manage_link(client, runtime, token):
    download = client.get(f"/manage/{token}/calendar.ics")

    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(download.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    appointment = stored(runtime)
    assert str(event["UID"]) == f"{appointment.id}@openvisit.test"
    assert event.decoded("SEQUENCE") == appointment.ical_sequence
    assert event.decoded("DTSTART") == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert str(event["URL"]) == f"http://testserver/manage/{token}"
    assert str(event["SUMMARY"]) == "Visit with Contoso Health"
