"""The waiting room's other endings in Chromium: the provider denies; the network drops
and comes back (the page reconnects and resumes its place). Lighter than the whole-visit
test: no call media is waited for."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from tests.e2e.test_sign_in_browser import collect_csp_violations
from tests.live import serve
from tests.visits import Visit, make_visit

pytestmark = pytest.mark.e2e

MORNING = datetime.fromisoformat("2026-11-24T14:45:00+00:00")
MEDIA = ["camera", "microphone"]


@pytest.fixture
def visit(runtime: Runtime, clock: FixedClock) -> Visit:
    booked = make_visit(dataclasses.replace(runtime, session_max_age_seconds=48 * 3600))
    clock.advance(MORNING - clock.now())
    return booked


def into_lobby(browser: Browser, base_url: str, visit: Visit, *, grant: bool = True) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    if grant:
        context.grant_permissions(MEDIA, origin=base_url)
    page = context.new_page()
    page.goto(f"{base_url}/join/{visit.consumer_token}")
    page.get_by_role("button", name="Start the check").click()
    onward = "Continue to the waiting room" if grant else "Join anyway"
    page.get_by_role("button", name=onward).click(timeout=20000)
    expect(page.get_by_text("You are number 1 in line")).to_be_visible(timeout=10000)
    return page


def test_the_provider_sees_a_blocked_camera_and_denies(app, media_chromium: Browser, visit: Visit):
    with serve(app) as base_url:
        you = into_lobby(media_chromium, base_url, visit, grant=False)
        csp = collect_csp_violations(you)
        staff = media_chromium.new_context(viewport={"width": 1280, "height": 900})
        staff.grant_permissions(MEDIA, origin=base_url)
        staff.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        try:
            page = staff.new_page()
            page.goto(f"{base_url}/visits/{visit.meeting_id}")
            expect(page.locator("#waiting-list")).to_contain_text(
                "Device check: camera blocked, microphone blocked"
            )
            page.get_by_role("button", name="Deny Jordan Lee").click()

            expect(you.get_by_role("heading", name="You were not let in")).to_be_visible(
                timeout=10000
            )
            expect(you.locator("#stage-lobby")).to_be_hidden()
            expect(page.get_by_text("Nobody is waiting.")).to_be_visible()
        finally:
            staff.close()
            you.context.close()
    assert csp == []


def test_a_dropped_network_reconnects_to_the_same_place(app, media_chromium: Browser, visit: Visit):
    with serve(app) as base_url:
        you = into_lobby(media_chromium, base_url, visit)
        sockets: list[str] = []
        you.on("websocket", lambda socket: sockets.append(socket.url))
        try:
            you.context.set_offline(True)
            expect(you.get_by_text("Connection lost. Reconnecting in", exact=False)).to_be_visible(
                timeout=10000
            )
            you.context.set_offline(False)
            expect(you.locator("#connection-status")).to_be_empty(timeout=20000)
            expect(you.get_by_text("You are number 1 in line")).to_be_visible()
            you.get_by_label("Message to the staff").fill("Back again.")
            you.get_by_role("button", name="Send").click()
            expect(you.locator("#lobby-chat")).to_contain_text("Back again.")

            # Leaving and coming back keeps the place.
            you.get_by_role("button", name="Leave the waiting room").click()
            expect(you.get_by_text("You left the waiting room.", exact=False)).to_be_visible()
            you.get_by_role("button", name="Return to the waiting room").click()
            expect(you.get_by_text("You are number 1 in line")).to_be_visible(timeout=10000)
            expect(you.locator("#lobby-chat")).to_contain_text("Back again.")
        finally:
            you.context.close()
    assert len(sockets) >= 1  # at least one new connection after the drop


# Records what the page shows through the Notification API (the test's, not the page's).
RECORD_NOTIFICATIONS = """
window.__shown = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__shown.push([title, options.body]); }
};
"""


def test_the_board_notifies_an_arrival(app, media_chromium: Browser, visit: Visit):
    with serve(app) as base_url:
        staff = media_chromium.new_context(viewport={"width": 1280, "height": 900})
        staff.grant_permissions(["notifications"], origin=base_url)
        staff.add_init_script(RECORD_NOTIFICATIONS)
        staff.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        try:
            board = staff.new_page()
            board.goto(f"{base_url}/visits/today")
            expect(board.locator('[data-list="upcoming"]')).to_contain_text("Jordan Lee")
            you = into_lobby(media_chromium, base_url, visit)

            expect(board.locator('[data-list="waiting"]')).to_contain_text("Jordan Lee")
            board.wait_for_function("() => window.__shown.length === 1")
            shown = board.evaluate("() => window.__shown")
            alert_hidden = board.locator("#arrival-alert").is_hidden()
            you.context.close()
        finally:
            staff.close()
    assert shown == [["Waiting room", "Jordan Lee is waiting (Visit)."]]
    assert alert_hidden
