"""A whole visit in two Chromium contexts with fake devices, against the real server.

The consumer opens the join link at a phone's size, passes the device check and waits in
the lobby at position 1; the provider, signed in, sees them on the day board and on the
visit page with their device-check result and admits them; both pages receive video
(framesDecoded > 0) and audio (totalSamplesReceived > 0); chat goes both ways and is
stored; the consumer reloads and is back in the call; the provider ends it for everyone.
Heavy (two browser contexts in a call): run it alone. OPENVISIT_TEST_SCREENSHOTS=<folder>
keeps the screenshots of every stage.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from openvisit.store.models import MeetingMessage
from tests.e2e.axe import blocking_violations, serve_axe
from tests.e2e.test_sign_in_browser import collect_csp_violations
from tests.live import serve
from tests.visits import Visit, make_visit

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MEDIA = ["camera", "microphone"]
# Tuesday 09:45 in New York: the morning of the 10:00 visit tests/visits.py books.
MORNING = datetime.fromisoformat("2026-11-24T14:45:00+00:00")
MEDIA_SECONDS = 30


@pytest.fixture
def visit(runtime: Runtime, clock: FixedClock) -> Visit:
    # Booked the day before (lead time), signed in for long enough to run it the next day.
    booked = make_visit(dataclasses.replace(runtime, session_max_age_seconds=48 * 3600))
    clock.advance(MORNING - clock.now())
    return booked


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    found = Path(os.environ.get("OPENVISIT_TEST_SCREENSHOTS") or tmp_path)
    found.mkdir(parents=True, exist_ok=True)
    return found


class Side:
    """One person's browser context and page, with what the test checks on it."""

    def __init__(self, browser: Browser, base_url: str, viewport: ViewportSize) -> None:
        phone = viewport["width"] < 600
        self.context: BrowserContext = browser.new_context(
            viewport=viewport,
            locale="en-US",
            timezone_id="America/New_York",
            is_mobile=phone,
            has_touch=phone,
        )
        self.context.grant_permissions(MEDIA, origin=base_url)
        self.page: Page = self.context.new_page()
        self.csp = collect_csp_violations(self.page)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        serve_axe(self.page)
        self.violations: list[str] = []

    def shot(self, folder: Path, name: str) -> None:
        self.violations += blocking_violations(self.page, name)
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    def media_arrives(self) -> dict[str, Any]:
        """Waits until some peer has sent both video and audio; returns the stats."""
        deadline = time.monotonic() + MEDIA_SECONDS
        stats: dict[str, Any] = {}
        while time.monotonic() < deadline:
            stats = self.page.evaluate(
                "() => window.openvisitCall ? window.openvisitCall.stats() : {}"
            )
            if any(
                s["framesDecoded"] > 0 and s["totalSamplesReceived"] > 0 for s in stats.values()
            ):
                return stats
            self.page.wait_for_timeout(250)
        raise AssertionError(f"no video and audio arrived within {MEDIA_SECONDS} s: {stats}")


@pytest.fixture
def sides() -> Iterator[list[Side]]:
    made: list[Side] = []
    yield made
    for side in made:
        side.context.close()


def stored_chat(app: Any) -> list[tuple[str, str, str]]:
    with app.state.runtime.db.read() as session:
        rows = session.scalars(select(MeetingMessage).order_by(MeetingMessage.id)).all()
        return [(row.sender_role, row.audience, row.text) for row in rows]


def test_a_whole_visit(app, media_chromium: Browser, visit: Visit, folder: Path, sides):
    with serve(app) as base_url:
        consumer = Side(media_chromium, base_url, PHONE)
        provider = Side(media_chromium, base_url, DESKTOP)
        sides += [consumer, provider]
        provider.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        you = consumer.page
        # The provider watches the day board before anyone arrives.
        board = provider.page
        board.goto(f"{base_url}/visits/today")
        expect(board.locator('[data-list="upcoming"]').get_by_text("Jordan Lee")).to_be_visible()

        # The consumer: device check, then the waiting room.
        you.goto(f"{base_url}/join/{visit.consumer_token}")
        you.get_by_role("button", name="Start the check").click()
        you.get_by_role("button", name="Continue to the waiting room").click(timeout=20000)
        expect(you.get_by_text("You are number 1 in line")).to_be_visible(timeout=10000)
        expect(you.get_by_text("Your provider will admit you shortly.")).to_be_visible()
        you.get_by_label("Message to the staff").fill("I am here, a bit early.")
        you.get_by_role("button", name="Send").click()
        expect(you.locator("#lobby-chat")).to_contain_text("I am here, a bit early.")
        consumer.shot(folder, "lobby-phone")
        you.set_viewport_size(DESKTOP)
        consumer.shot(folder, "lobby-desktop")
        you.set_viewport_size(PHONE)

        # The provider's day board shows them waiting, with their device check.
        waiting = board.locator('[data-list="waiting"]')
        expect(waiting.get_by_text("Jordan Lee")).to_be_visible(timeout=10000)
        expect(waiting.get_by_text(re.compile("Device check passed"))).to_be_visible()
        # Their arrival was announced (no Notification permission here: the page itself).
        expect(board.get_by_role("alert")).to_have_text("Jordan Lee is waiting (Visit).")
        provider.shot(folder, "board-desktop")
        board.set_viewport_size(PHONE)
        provider.shot(folder, "board-phone")
        board.set_viewport_size(DESKTOP)

        # Running late, from the board: the waiting room says so.
        board.get_by_label("Your state").select_option("late")
        board.get_by_label("Minutes late").fill("10")
        board.get_by_role("button", name="Update the waiting room").click()
        expect(you.get_by_text("Your provider is running 10 minutes late.")).to_be_visible()

        # One click from the board into the visit; the waiting list shows the consumer.
        board.get_by_role("link", name=re.compile("Join: visit with Jordan Lee")).click()
        expect(board).to_have_url(f"{base_url}/visits/{visit.meeting_id}")
        item = board.locator("#waiting-list > li").filter(has_text="Jordan Lee")
        expect(item).to_be_visible(timeout=10000)
        expect(item.get_by_text(re.compile("Device check passed"))).to_be_visible()
        expect(item.locator(".lobby-thread")).to_contain_text("I am here, a bit early.")
        item.get_by_label("Message").fill("Welcome, one moment please.")
        item.get_by_role("button", name="Send").click()
        expect(you.locator("#lobby-chat")).to_contain_text("Welcome, one moment please.")
        provider.shot(folder, "visit-waiting-desktop")

        item.get_by_role("button", name="Admit Jordan Lee").click()

        # Both sides get video and audio from the other.
        expect(you.locator("#stage-call")).to_be_visible(timeout=10000)
        their_stats = consumer.media_arrives()
        our_stats = provider.media_arrives()
        assert len(their_stats) == len(our_stats) == 1
        consumer.shot(folder, "call-phone")
        provider.shot(folder, "call-desktop")
        # Screen share is for desktop browsers: a touch phone does not offer it.
        expect(you.get_by_role("button", name="Share screen")).to_be_hidden()
        expect(board.get_by_role("button", name="Share screen")).to_be_visible()

        # Muting shows on the other side; the people list names both.
        you.get_by_role("button", name="Mute").click()
        expect(board.locator("#tiles .tile.remote")).to_contain_text("(muted)")
        you.get_by_role("button", name="Unmute").click()
        expect(board.locator("#tiles .tile.remote")).not_to_contain_text("muted")
        board.get_by_role("button", name=re.compile("^People")).click()
        expect(board.locator("#people")).to_contain_text("Jordan Lee")
        expect(board.locator("#people")).to_contain_text("Dr. Ann (You)")
        board.set_viewport_size(PHONE)
        provider.shot(folder, "call-provider-phone")
        board.set_viewport_size(DESKTOP)

        # Chat both ways in the call.
        board.get_by_role("button", name="Chat").click()
        board.get_by_label("Message", exact=True).fill("Can you hear me?")
        board.locator("#call-chat-form").get_by_role("button", name="Send").click()
        you.get_by_role("button", name=re.compile("^Chat")).click()
        expect(you.locator("#call-chat")).to_contain_text("Can you hear me?")
        you.get_by_label("Message", exact=True).fill("Yes, loud and clear.")
        you.locator("#call-chat-form").get_by_role("button", name="Send").click()
        expect(board.locator("#call-chat")).to_contain_text("Yes, loud and clear.")
        consumer.shot(folder, "call-chat-phone")

        # A reload brings the consumer straight back into the call.
        you.reload()
        expect(you.locator("#stage-call")).to_be_visible(timeout=15000)
        expect(you.locator("#stage-check")).to_be_hidden()
        consumer.media_arrives()
        provider.media_arrives()

        # So does the provider's.
        board.reload()
        expect(board.locator("#stage-call")).to_be_visible(timeout=15000)
        provider.media_arrives()
        consumer.media_arrives()
        expect(board.locator("#tiles .tile.remote")).to_have_count(1)
        expect(you.locator("#tiles .tile.remote")).to_have_count(1)

        # The network drops and comes back: the page reconnects, resumes, and the call
        # goes on with media and chat.
        you.context.set_offline(True)
        expect(you.locator("#connection-status")).to_contain_text("Reconnecting")
        you.wait_for_timeout(1500)
        you.context.set_offline(False)
        expect(you.locator("#connection-status")).to_be_empty(timeout=20000)
        expect(you.locator("#stage-call")).to_be_visible()
        consumer.media_arrives()
        provider.media_arrives()
        you.get_by_role("button", name=re.compile("^Chat")).click()
        you.get_by_label("Message", exact=True).fill("Sorry, my Wi-Fi dropped.")
        you.locator("#call-chat-form").get_by_role("button", name="Send").click()
        expect(board.locator("#call-chat")).to_contain_text("Sorry, my Wi-Fi dropped.")

        # The provider ends the visit for everyone.
        board.once("dialog", lambda dialog: dialog.accept())
        board.get_by_role("button", name="End for all").click()
        expect(you.get_by_role("heading", name="The visit has ended")).to_be_visible(timeout=10000)
        consumer.shot(folder, "ended-phone")

    assert stored_chat(app) == [
        ("consumer", "lobby", "I am here, a bit early."),
        ("provider", "lobby", "Welcome, one moment please."),
        ("provider", "call", "Can you hear me?"),
        ("consumer", "call", "Yes, loud and clear."),
        ("consumer", "call", "Sorry, my Wi-Fi dropped."),
    ]
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
