"""What the consumer and the provider actually receive: e-mails and texts composed from
the templates at send time, in the reader's language and zone, with a calendar part that
adds, moves and removes one event (both backends)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from openvisit import link_tokens
from openvisit.bookings import businesses, documents, records
from openvisit.bookings.appointments import AppointmentRequest, cancel, reschedule
from openvisit.bookings.document_rows import NewLink
from openvisit.bookings.services import SERVICES
from openvisit.consumer_links import MANAGE
from openvisit.notify import sms_text
from openvisit.notify.compose import ComposeSettings
from openvisit.notify.messages import EmailMessage, Receipt, TextMessage
from openvisit.notify.transports.base import TransientFailure
from openvisit.runtime import Runtime
from tests.bookings.clinic import CONSUMER, TUESDAY_10, Clinic, book_at, make_clinic
from tests.notify.support import COMPOSE, Recording, dispatcher

# 15:00Z is 10:00 in New York (the business) and 20:30 in Kolkata (the customer).
CUSTOMER = {
    "name": "Ann <b>Customer</b>",
    "emailAddress": "ann.customer@example.test",
    "phone": "+1 212 555 0123",
    "smsNotificationsEnabled": True,
}
KOLKATA = "Asia/Kolkata"
DAY_BEFORE = {"offset": "P1D", "recipients": "allAttendees", "message": "Bring your card"}


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    place = make_clinic(runtime)
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        place["business"],
        place["visit"],
        {"default_reminders": [DAY_BEFORE], "sms_notifications_enabled": True},
        actor="test",
    )
    businesses.update_business(
        runtime.db,
        runtime.clock,
        place["business"],
        {"email": "desk@contoso.test", "phone": "+1 212 555 0100"},
        actor="test",
    )
    businesses.publish_business(runtime.db, runtime.clock, place["business"], actor="test")
    return place


def sent(runtime: Runtime, settings: ComposeSettings = COMPOSE) -> Recording:
    transport = Recording()
    asyncio.run(dispatcher(runtime.db, runtime.clock, transport, compose=settings).run_once())
    return transport


def emails(transport: Recording, kind: str) -> list[EmailMessage]:
    return [
        message
        for message in transport.messages
        if isinstance(message, EmailMessage) and message.idempotency_key.split(":")[1] == kind
    ]


def texts(transport: Recording) -> list[TextMessage]:
    return [message for message in transport.messages if isinstance(message, TextMessage)]


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    assert message.calendar is not None
    return icalendar.Calendar.from_ical(message.calendar.data)


def the_event(calendar: icalendar.Calendar) -> icalendar.cal.Component:
    [event] = calendar.walk("VEVENT")
    return event


def manage_token(text: str) -> str:
    match = re.search(r"http://testserver/manage/([A-Za-z0-9_.~-]+)", text)
    assert match is not None, text
    return match.group(1)


def book(runtime: Runtime, clinic: Clinic, **kwargs: Any) -> str:
    booked = book_at(
        runtime,
        clinic,
        TUESDAY_10,
        customers=(CUSTOMER,),
        customer_time_zone=KOLKATA,
        **kwargs,
    )
    return booked.id


def move(
    runtime: Runtime, clinic: Clinic, appointment_id: str, start: datetime, staff: str
) -> None:
    request = AppointmentRequest(
        service_id=clinic["visit"],
        start=start,
        staff_ids=(clinic[staff],),
        customers=(CUSTOMER,),
        customer_time_zone=KOLKATA,
    )
    reschedule(
        runtime.db, runtime.clock, clinic["business"], appointment_id, request, authority=CONSUMER
    )


def test_the_confirmation_speaks_in_the_customers_zone_with_a_working_manage_link(runtime, clinic):
    appointment_id = book(runtime, clinic)
    [confirmation] = emails(sent(runtime), "confirmation")

    assert confirmation.to_address == CUSTOMER["emailAddress"]
    assert confirmation.subject == "Booked: Visit on Tuesday, November 24, 2026 at 8:30\u202fPM"
    assert "When: Tuesday, November 24, 2026, 8:30\u202fPM\u20139:00\u202fPM\n" in confirmation.text
    assert "Time zone: Kolkata (UTC+05:30)\n" in confirmation.text
    assert "Dr. Ann" in confirmation.text
    assert ("Reply-To", "desk@contoso.test") in confirmation.headers
    token = manage_token(confirmation.text)
    claim = link_tokens.verify(COMPOSE.secret_key, MANAGE, token, now=runtime.clock.now())
    assert claim.subject == appointment_id
    assert "View, reschedule or cancel your appointment:" in confirmation.text


def test_the_html_part_escapes_what_customers_typed(runtime, clinic):
    book(runtime, clinic)
    [confirmation] = emails(sent(runtime), "confirmation")
    assert confirmation.html is not None
    assert "Ann &lt;b&gt;Customer&lt;/b&gt;" in confirmation.html
    assert "<b>Customer</b>" not in confirmation.html
    assert "Hello Ann <b>Customer</b>," in confirmation.text  # plain text shows it as typed


def test_the_invitation_is_one_event_that_moves_and_is_cancelled(runtime, clinic):
    appointment_id = book(runtime, clinic)
    [confirmation] = emails(sent(runtime), "confirmation")
    invitation = calendar_of(confirmation)
    assert invitation["METHOD"] == "REQUEST"
    assert confirmation.calendar is not None
    assert "method=REQUEST" in confirmation.calendar.content_type
    event = the_event(invitation)
    uid = str(event["UID"])
    assert uid == f"{appointment_id}@openvisit.test"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == TUESDAY_10
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event["DTSTART"].to_ical() == b"20261124T150000Z"
    assert str(event["URL"]).startswith("http://testserver/manage/")

    later = TUESDAY_10 + timedelta(days=1, hours=1)
    move(runtime, clinic, appointment_id, later, staff="ann")
    [moved] = emails(sent(runtime), "rescheduled")
    assert "Before: Tuesday, November 24, 2026, 8:30\u202fPM" in moved.text
    moved_event = the_event(calendar_of(moved))
    assert (str(moved_event["UID"]), moved_event["SEQUENCE"]) == (uid, 1)
    assert moved_event.decoded("DTSTART") == later

    cancel(runtime.db, runtime.clock, clinic["business"], appointment_id, "Ill", authority=CONSUMER)
    [cancelled] = emails(sent(runtime), "cancelled")
    cancellation = calendar_of(cancelled)
    assert cancellation["METHOD"] == "CANCEL"
    gone = the_event(cancellation)
    assert (str(gone["UID"]), gone["SEQUENCE"], str(gone["STATUS"])) == (uid, 2, "CANCELLED")
    assert "/manage/" not in cancelled.text  # nothing left to manage
    assert f"http://testserver/book/{clinic['business']}/" in cancelled.text
    assert "Message from Contoso Health: Ill" in cancelled.text


def test_the_provider_hears_whom_they_will_see_and_gets_no_customer_link(runtime, clinic):
    book(runtime, clinic)
    [notice] = emails(sent(runtime), "staffBooked")
    assert notice.to_address == "ann@example.test"
    assert "/manage/" not in notice.text
    assert "Customer: Ann <b>Customer</b>, ann.customer@example.test" in notice.text
    assert "10:00\u202fAM" in notice.text  # the business's zone, New York
    assert "New York" in notice.text
    assert calendar_of(notice)["METHOD"] == "REQUEST"


def test_a_provider_the_appointment_moves_away_from_gets_a_cancel_at_their_old_time(
    runtime, clinic
):
    appointment_id = book(runtime, clinic)
    sent(runtime)
    later = TUESDAY_10 + timedelta(hours=2)
    move(runtime, clinic, appointment_id, later, staff="bob")
    transport = sent(runtime)
    [left] = emails(transport, "staffCancelled")
    assert left.to_address == "ann@example.test"
    assert "10:00\u202fAM" in left.text and "Dr. Bob" not in left.text
    event = the_event(calendar_of(left))
    assert event.decoded("DTSTART") == TUESDAY_10 and event["SEQUENCE"] == 1
    [joined] = emails(transport, "staffBooked")
    assert joined.to_address == "bob@example.test"


def test_the_german_confirmation_is_german(runtime, clinic):
    book(runtime, clinic, customer_language="de")
    [confirmation] = emails(sent(runtime), "confirmation")
    assert confirmation.language == "de"
    assert confirmation.subject == "Gebucht: Visit am Dienstag, 24. November 2026 um 20:30"
    assert "Hallo Ann <b>Customer</b>," in confirmation.text
    assert "Kolkata (UTC+05:30)" in confirmation.text
    description = str(the_event(calendar_of(confirmation))["DESCRIPTION"])
    assert description.startswith("Ansehen, verschieben oder absagen: http://testserver/manage/")


def test_a_text_fits_three_segments_and_keeps_the_manage_link_whole(runtime, clinic):
    long_name = ("Visit with a very long and descriptive service name " * 5)[:250]
    businesses.update_business(
        runtime.db,
        runtime.clock,
        clinic["business"],
        {"display_name": "Contoso Health and Wellbeing Centre of the Upper West Side"},
        actor="test",
    )
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        {"display_name": long_name.strip()},
        actor="test",
    )
    book(runtime, clinic)
    [text] = texts(sent(runtime))
    assert text.to_number == "+12125550123"
    assert sms_text.segment_count(text.body) <= 3
    token = text.body.rsplit("\n", 1)[1].removeprefix("http://testserver/manage/")
    link_tokens.verify(COMPOSE.secret_key, MANAGE, token, now=runtime.clock.now())
    assert "..." in text.body  # the name was shortened, the link was not


def test_a_retried_text_keeps_the_time_of_its_first_attempt(runtime, clinic):
    book(runtime, clinic)
    first_claim = runtime.clock.now()
    refusing = Recording(behaviour=_refuse_texts)
    asyncio.run(dispatcher(runtime.db, runtime.clock, refusing).run_once())
    runtime.clock.advance(timedelta(minutes=10))  # past the backoff, before the reminder
    [retried] = texts(sent(runtime))
    assert retried.first_attempt_at == first_claim


async def _refuse_texts(key: str, _call: int) -> Receipt:
    if ":sms:" in key:
        raise TransientFailure("try later")
    return Receipt()


def test_when_the_customer_may_not_change_it_the_link_only_views(runtime, clinic):
    records.update_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        {"is_customer_allowed_to_manage_booking": False},
        actor="test",
    )
    book(runtime, clinic)
    [confirmation] = emails(sent(runtime), "confirmation")
    assert "View your appointment:" in confirmation.text
    assert "reschedule" not in confirmation.text


def test_prerequisite_documents_are_listed_in_confirmations_and_reminders(runtime, clinic):
    documents.add_service_link(
        runtime.db,
        runtime.clock,
        clinic["business"],
        clinic["visit"],
        NewLink("Intake form", "https://forms.contoso.test/intake", "Fill in before you come"),
        actor="test",
    )
    settings = replace(COMPOSE, prerequisites=documents.prerequisites_in)
    book(runtime, clinic)
    [confirmation] = emails(sent(runtime, settings), "confirmation")
    assert "- Intake form: https://forms.contoso.test/intake" in confirmation.text
    assert confirmation.html is not None
    assert 'href="https://forms.contoso.test/intake"' in confirmation.html
    runtime.clock.advance(TUESDAY_10 - timedelta(days=1) - runtime.clock.now())
    reminders = emails(sent(runtime, settings), "reminder")
    customer = [message for message in reminders if message.to_address == CUSTOMER["emailAddress"]]
    assert len(customer) == 1
    assert "Intake form" in customer[0].text and "Bring your card" in customer[0].text
    assert customer[0].calendar is None  # a reminder changes nothing in a calendar
    staff = [message for message in reminders if message.to_address == "ann@example.test"]
    assert staff and "Intake form" not in staff[0].text


def test_a_template_in_the_data_folder_wins(runtime, clinic, tmp_path: Path):
    folder = tmp_path / "templates" / "email"
    folder.mkdir(parents=True)
    (folder / "confirmation.jinja").write_text(
        "{% extends layout %}{% block subject %}See you, {{ c.recipient_name }}{% endblock %}"
        "{% block heading %}Booked{% endblock %}{% block intro %}Our own words.{% endblock %}"
    )
    settings = replace(COMPOSE, templates_dir=tmp_path / "templates")
    book(runtime, clinic)
    transport = sent(runtime, settings)
    [confirmation] = emails(transport, "confirmation")
    assert confirmation.subject == "See you, Ann <b>Customer</b>"
    assert "Our own words." in confirmation.text
    [notice] = emails(transport, "staffBooked")  # the other kinds keep the packaged text
    assert notice.subject.startswith("New appointment: Visit")


def test_a_message_for_an_appointment_cancelled_since_it_was_claimed_is_not_sent(runtime, clinic):
    appointment_id = book(runtime, clinic)
    slow = Recording()
    worker = dispatcher(runtime.db, runtime.clock, slow)
    claim = asyncio.run(worker.claim())
    cancel(runtime.db, runtime.clock, clinic["business"], appointment_id, None, authority=CONSUMER)
    asyncio.run(worker.deliver(claim))
    assert slow.messages == []  # composed after the cancel: the booking news is stale
    transport = sent(runtime)
    assert {message.idempotency_key.split(":")[1] for message in transport.messages} == {
        "cancelled",
        "staffCancelled",
    }
