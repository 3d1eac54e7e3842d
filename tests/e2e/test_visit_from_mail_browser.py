"""Issue 10's first check, whole: from the confirmation e-mail to the attendance report.

An online appointment is booked through the booking service; the dispatcher sends the
confirmation over SMTP to aiosmtpd; the consumer opens the join link from its text part at
a phone's size, passes the device check and waits at position 1; the provider signs in
through the real sign-in page, sees them with their device-check result and admits them;
both pages receive video and audio; chat goes both ways and is stored; the consumer
reloads and is back; the provider ends the visit; the Graph attendance report shows both,
lobby wait not counted. The mail's device-check link opens the standalone check. Heavy:
run it alone. OPENVISIT_TEST_SCREENSHOTS=<folder> keeps the screenshots.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from openvisit.clock import FixedClock
from openvisit.meetings.appointment_meetings import meeting_of
from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from tests.bookings.clinic import TUESDAY_10, book_at, make_clinic
from tests.e2e.test_booking_mail_browser import deliver
from tests.e2e.test_visit_call_browser import (
    DESKTOP,
    MORNING,
    PHONE,
    Side,
    folder,  # noqa: F401  # the screenshot folder fixture
    sides,  # noqa: F401  # the browser contexts, closed after the test
    stored_chat,
)
from tests.live import serve
from tests.meetings.helpers import user_token
from tests.notify.smtp_server import Sink, smtp_server

pytestmark = pytest.mark.e2e

CUSTOMER = "jordan@example.test"
PROVIDER = "ann@example.test"  # Dr. Ann's staff e-mail: the meeting's organizer
PASSWORD = "correct horse battery"


def links_in_the_mail(received: Sink) -> tuple[str, str]:
    """The join and device-check links of the one confirmation to the customer."""
    [message] = [
        item.message
        for item in received.received
        if item.rcpt_tos == [CUSTOMER] and str(item.message["Subject"]).startswith("Booked:")
    ]
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    join = re.search(r"Join the video visit:\s*(\S+)", body)
    check = re.search(r"Test your camera and microphone beforehand:\s*(\S+)", body)
    assert join is not None and check is not None, body
    return join.group(1), check.group(1)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_visit_from_the_confirmation_mail(
    app,
    runtime: Runtime,
    clock: FixedClock,
    media_chromium: Browser,
    folder: Path,  # noqa: F811
    sides: list[Side],  # noqa: F811
):
    # The staff user exists before the booking: the meeting's organizer is chosen then.
    provider_user = create_user(
        runtime.db,
        runtime.clock,
        email=PROVIDER,
        role="teamMember",
        password=PASSWORD,
        display_name="Dr. Ann",
        actor="test",
    )
    clinic = make_clinic(runtime)
    appointment = book_at(
        runtime,
        clinic,
        TUESDAY_10,
        customers=({"name": "Jordan Lee", "emailAddress": CUSTOMER},),
        details={"isLocationOnline": True},
    )
    with runtime.db.read() as session:
        meeting = meeting_of(session, appointment.id)
        assert meeting is not None
        meeting_id = meeting.id
    received = Sink()
    with smtp_server(received) as port, serve(app) as base_url:
        deliver(app.state.runtime, port, base_url)
        join_url, check_url = links_in_the_mail(received)
        assert join_url.startswith(f"{base_url}/join/")
        assert check_url == f"{join_url}/check"
        clock.advance(MORNING - clock.now())

        consumer = Side(media_chromium, base_url, PHONE)
        provider = Side(media_chromium, base_url, DESKTOP)
        sides += [consumer, provider]
        you, board = consumer.page, provider.page

        # The device-check link alone opens the standalone check.
        you.goto(check_url)
        expect(you.get_by_role("button", name="Start the check")).to_be_visible()
        consumer.shot(folder, "mail-check-phone")

        # The join link from the mail: device check, then the waiting room at position 1.
        you.goto(join_url)
        consumer.shot(folder, "mail-join-phone")
        you.get_by_role("button", name="Start the check").click()
        you.get_by_role("button", name="Continue to the waiting room").click(timeout=30000)
        expect(you.get_by_text("You are number 1 in line")).to_be_visible(timeout=15000)
        consumer.shot(folder, "mail-lobby-phone")
        lobby_from = clock.now()
        clock.advance(timedelta(minutes=3))

        # The provider signs in through the real page and lands on the visit.
        board.goto(f"{base_url}/visits/{meeting_id}")
        expect(board).to_have_url(re.compile(r"/login\?next="))
        board.get_by_label("E-mail").fill(PROVIDER)
        board.get_by_label("Password").fill(PASSWORD)
        board.get_by_role("button", name="Sign in").click()
        expect(board).to_have_url(f"{base_url}/visits/{meeting_id}", timeout=15000)
        item = board.locator("#waiting-list > li").filter(has_text="Jordan Lee")
        expect(item).to_be_visible(timeout=15000)
        expect(item.get_by_text(re.compile("Device check passed"))).to_be_visible()
        admitted_at = clock.now()
        item.get_by_role("button", name="Admit Jordan Lee").click()

        expect(you.locator("#stage-call")).to_be_visible(timeout=15000)
        consumer.media_arrives()
        provider.media_arrives()
        consumer.shot(folder, "mail-call-phone")

        # Chat both ways.
        board.get_by_role("button", name="Chat").click()
        board.get_by_label("Message", exact=True).fill("Can you hear me?")
        board.locator("#call-chat-form").get_by_role("button", name="Send").click()
        you.get_by_role("button", name=re.compile("^Chat")).click()
        expect(you.locator("#call-chat")).to_contain_text("Can you hear me?")
        you.get_by_label("Message", exact=True).fill("Yes, loud and clear.")
        you.locator("#call-chat-form").get_by_role("button", name="Send").click()
        expect(board.locator("#call-chat")).to_contain_text("Yes, loud and clear.")
        clock.advance(timedelta(minutes=10))

        # A reload brings the consumer back into the call, with media.
        you.reload()
        expect(you.locator("#stage-call")).to_be_visible(timeout=20000)
        expect(you.locator("#stage-check")).to_be_hidden()
        consumer.media_arrives()
        provider.media_arrives()
        clock.advance(timedelta(minutes=10))

        board.once("dialog", lambda dialog: dialog.accept())
        board.get_by_role("button", name="End for all").click()
        expect(you.get_by_role("heading", name="The visit has ended")).to_be_visible(timeout=15000)
        ended_at = clock.now()

        # Attendance through the Graph API, read by the organizer's token.
        headers = user_token(app.state.runtime, provider_user)
        reports_path = f"{base_url}/v1.0/me/onlineMeetings/{meeting_id}/attendanceReports"
        reports = httpx.get(reports_path, headers=headers, timeout=10)
        assert reports.status_code == 200, reports.text
        [report] = reports.json()["value"]
        records = httpx.get(
            f"{reports_path}/{report['id']}/attendanceRecords", headers=headers, timeout=10
        )
        assert records.status_code == 200, records.text

    wall = (ended_at - lobby_from).total_seconds()
    assert report["totalParticipantCount"] == 2
    assert when(report["meetingEndDateTime"]) == ended_at
    by_role = {record["role"]: record for record in records.json()["value"]}
    assert set(by_role) == {"Organizer", "Attendee"}
    assert by_role["Organizer"]["identity"]["displayName"] == "Dr. Ann"
    assert by_role["Attendee"]["identity"]["displayName"] == "Jordan Lee"
    for record in by_role.values():
        assert 0 < record["totalAttendanceInSeconds"] <= wall
        for interval in record["attendanceIntervals"]:
            assert interval["leaveDateTime"] is not None
            assert when(interval["leaveDateTime"]) <= ended_at
    # The consumer's call time starts at the admission: the 3 lobby minutes are not in it.
    first_in = min(when(i["joinDateTime"]) for i in by_role["Attendee"]["attendanceIntervals"])
    assert first_in >= admitted_at
    assert by_role["Attendee"]["totalAttendanceInSeconds"] <= (ended_at - admitted_at).seconds
    organizer_in = min(when(i["joinDateTime"]) for i in by_role["Organizer"]["attendanceIntervals"])
    assert organizer_in <= first_in  # the provider joined first, then admitted them

    assert stored_chat(app) == [
        ("provider", "call", "Can you hear me?"),
        ("consumer", "call", "Yes, loud and clear."),
    ]
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
