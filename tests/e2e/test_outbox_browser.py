"""A new administrator reads what the server sent at /dev/outbox in Chromium: the
confirmation of a booking, its HTML shown in a sandboxed frame, and its manage link
followed from there to the consumer's page (phone and desktop sizes, axe on each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from openvisit.config import Settings
from tests.bookings.clinic import book_at, make_clinic
from tests.e2e.axe import blocking_violations, serve_axe
from tests.e2e.dispatch import deliver_once
from tests.e2e.test_booking_browser import SCREENSHOT_DIR
from tests.e2e.test_sign_in_browser import (
    PASSWORD,
    collect_csp_violations,
    fill_login,
    staff_user,  # noqa: F401 - a fixture
)
from tests.live import serve

pytestmark = pytest.mark.e2e

CUSTOMER = {"name": "Priya Raman", "emailAddress": "priya@example.test"}
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.mark.usefixtures("staff_user")
@pytest.mark.parametrize("size", sorted(SIZES))
def test_an_administrator_reads_the_confirmation_and_follows_its_link(
    app, runtime, chromium: Browser, tmp_path, size
):
    clinic = make_clinic(runtime)
    book_at(runtime, clinic, customers=(CUSTOMER,))
    folder = Path(SCREENSHOT_DIR or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport=SIZES[size])  # type: ignore[arg-type]
    page = context.new_page()
    csp = collect_csp_violations(page)
    serve_axe(page)
    violations: list[str] = []
    try:
        with serve(app) as base_url:
            deliver_once(
                runtime, Settings(email_transport="outbox", sms_transport="outbox"), base_url
            )
            page.goto(f"{base_url}/dev/outbox")
            fill_login(page, PASSWORD)
            expect(page).to_have_url(f"{base_url}/dev/outbox")
            confirmation = page.get_by_role("link", name="Booked: Visit", exact=False)
            expect(confirmation).to_be_visible()
            violations += blocking_violations(page, "list")
            page.screenshot(path=str(folder / f"outbox-{size}-list.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")

            confirmation.click()
            frame = page.frame_locator("iframe")
            expect(frame.get_by_role("heading", name="Your appointment is booked")).to_be_visible()
            button = frame.get_by_role("link", name="View, reschedule or cancel")
            # The e-mail's inline styles apply inside the frame: the button is blue.
            colour = button.evaluate("element => getComputedStyle(element).backgroundColor")
            violations += blocking_violations(page, "message")
            page.screenshot(path=str(folder / f"outbox-{size}-message.png"), full_page=True)

            with context.expect_page() as opened:
                button.click()
            consumer = opened.value
            consumer.wait_for_load_state()
            expect(consumer.get_by_role("heading", name="Your appointment")).to_be_visible()
            assert consumer.url.startswith(f"{base_url}/manage/")
    finally:
        context.close()
    assert colour == "rgb(31, 95, 191)"
    assert width <= SIZES[size]["width"]
    assert violations == [], "\n".join(violations)
    assert csp == []
