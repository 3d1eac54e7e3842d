"""The consumer's mail, end to end: booked on the page in Chromium at a phone size, the
confirmation leaves over SMTP to a real server (aiosmtpd), its invitation parses with
icalendar, and the manage link inside it reschedules and cancels the appointment, each
change arriving as an update of the same calendar event."""

from __future__ import annotations

import email.message
import re
from collections.abc import Iterator

import icalendar
import pytest
from playwright.sync_api import Browser, Page, expect

from openvisit.config import Settings
from openvisit.runtime import Runtime
from tests.e2e.dispatch import deliver_once
from tests.e2e.test_booking_browser import CASES, ENGLISH
from tests.live import serve
from tests.notify.smtp_server import Sink, smtp_server
from tests.web.consumer.site import make_site

pytestmark = pytest.mark.e2e

PHONE_KOLKATA = CASES[0]  # 390x844, en-US, Asia/Kolkata: the clinic is in New York
CUSTOMER = "priya@example.test"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    received = Sink()
    with smtp_server(received) as port:
        yield received, port


def deliver(runtime: Runtime, port: int, base_url: str) -> None:
    """One pass of the dispatcher `openvisit serve` runs, sending over SMTP."""
    settings = Settings(
        email_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from_address="visits@clinic.example",
    )
    deliver_once(runtime, settings, base_url)


def mail_to_customer(sink: Sink, subject_start: str) -> email.message.EmailMessage:
    found = [
        item.message
        for item in sink.received
        if item.rcpt_tos == [CUSTOMER] and str(item.message["Subject"]).startswith(subject_start)
    ]
    assert len(found) == 1, [str(item.message["Subject"]) for item in sink.received]
    return found[0]


def invitation(message: email.message.EmailMessage) -> tuple[str, icalendar.cal.Component]:
    """The METHOD and the one VEVENT of the message's text/calendar part."""
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    calendar = icalendar.Calendar.from_ical(parts[0].get_content())
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def test_the_confirmation_mail_carries_an_invitation_and_a_working_manage_link(
    app, runtime, chromium: Browser, sink
):
    received, port = sink
    site = make_site(runtime)
    case = PHONE_KOLKATA
    context = chromium.new_context(
        viewport=case.viewport,  # type: ignore[arg-type]  # a ViewportSize mapping
        locale=case.locale,
        timezone_id=case.zone,
    )
    page = context.new_page()
    try:
        with serve(app) as base_url:
            book_on_the_page(page, f"{base_url}/book/{site['business']}/", case.booked_time)
            deliver(runtime, port, base_url)

            confirmation = mail_to_customer(received, "Booked:")
            assert "8:30\u202fPM" in str(confirmation["Subject"])  # the consumer's zone
            text = confirmation.get_body(preferencelist=("plain",))
            assert text is not None and "Kolkata (UTC+05:30)" in text.get_content()
            method, event = invitation(confirmation)
            assert method == "REQUEST"
            uid = str(event["UID"])
            assert event["SEQUENCE"] == 0
            assert event["DTSTART"].to_ical() == b"20261124T150000Z"  # 10:00 in New York
            manage_url = str(event["URL"])
            assert manage_url.startswith(f"{base_url}/manage/")

            page.goto(manage_url)  # straight from the invitation, no sign-in
            expect(page.get_by_text(case.booked_time).first).to_be_visible()
            page.get_by_role("link", name=ENGLISH["another"]).click()
            page.get_by_role("link", name=re.compile(r"Nov 25")).first.click()
            page.get_by_label(case.moved_time, exact=True).check()
            page.get_by_role("button", name=ENGLISH["move"]).click()
            expect(page.get_by_text(ENGLISH["moved"])).to_be_visible()
            deliver(runtime, port, base_url)

            method, moved = invitation(mail_to_customer(received, "Moved:"))
            assert (method, str(moved["UID"]), moved["SEQUENCE"]) == ("REQUEST", uid, 1)
            assert moved["DTSTART"].to_ical() == b"20261125T160000Z"  # Wednesday 11:00 EST

            page.get_by_role("link", name=ENGLISH["cancel"]).click()
            page.get_by_label(ENGLISH["reason"]).fill("I feel better")
            page.get_by_role("button", name=ENGLISH["cancel"]).click()
            expect(page.get_by_text(ENGLISH["cancelled"])).to_be_visible()
            deliver(runtime, port, base_url)

            method, gone = invitation(mail_to_customer(received, "Cancelled:"))
            assert (method, str(gone["UID"]), gone["SEQUENCE"]) == ("CANCEL", uid, 2)
            assert str(gone["STATUS"]) == "CANCELLED"
    finally:
        context.close()
    # Every message went out once: one Message-ID each, none repeated by the passes.
    ids = [item.message["Message-ID"] for item in received.received]
    assert len(ids) == len(set(ids))


def book_on_the_page(page: Page, business_page: str, slot: str) -> None:
    page.goto(business_page)
    page.get_by_role("link", name=re.compile(ENGLISH["service"])).click()
    page.get_by_role("link", name=re.compile(r"Nov 24")).first.click()
    page.get_by_label(slot, exact=True).check()
    page.get_by_role("button", name=ENGLISH["continue"]).click()
    page.get_by_label(ENGLISH["name"]).fill("Priya Raman")
    page.get_by_label(ENGLISH["email"]).fill(CUSTOMER)
    page.get_by_label(ENGLISH["question"]).fill("A cough that will not go")
    page.get_by_role("button", name=ENGLISH["book"]).click()
    expect(page.get_by_role("heading", name=ENGLISH["booked"])).to_be_visible()
