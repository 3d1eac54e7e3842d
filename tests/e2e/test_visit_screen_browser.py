"""Screen share from a desktop browser: the provider's outgoing video becomes the screen
(Chromium's fake capture, picked by the fake UI), the other side sees it flagged and
keeps receiving video; stopping brings the camera back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from openvisit.auth.sessions import SESSION_COOKIE
from tests.e2e.conftest import CHROMIUM, MEDIA_ARGS
from tests.e2e.test_visit_call_browser import (  # the fixtures too
    DESKTOP,
    PHONE,
    Side,
    folder,  # noqa: F401
    sides,  # noqa: F401
    visit,  # noqa: F401
)
from tests.live import serve
from tests.visits import Visit

pytestmark = pytest.mark.e2e

# The fake UI answers getDisplayMedia with a fake screen (and grants the camera too).
SCREEN_ARGS = [*MEDIA_ARGS, "--use-fake-ui-for-media-stream"]
REMOTE_WIDTH = "() => document.querySelector('#tiles .tile.remote video').videoWidth"
LOCAL_LABEL = "() => document.getElementById('local-video').srcObject.getVideoTracks()[0].label"


@pytest.fixture(scope="module")
def screen_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=SCREEN_ARGS)
        yield browser
        browser.close()


def test_the_provider_shares_the_screen(
    app,
    screen_chromium: Browser,
    visit: Visit,  # noqa: F811 - the imported fixture
    sides,  # noqa: F811
    folder: Path,  # noqa: F811
):
    with serve(app) as base_url:
        provider = Side(screen_chromium, base_url, DESKTOP)
        consumer = Side(screen_chromium, base_url, PHONE)
        sides += [provider, consumer]
        provider.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        staff = provider.page
        staff.goto(f"{base_url}/visits/{visit.meeting_id}")
        you = consumer.page
        you.goto(f"{base_url}/join/{visit.consumer_token}")
        you.get_by_role("button", name="Start the check").click()
        you.get_by_role("button", name="Continue to the waiting room").click(timeout=20000)
        staff.get_by_role("button", name="Admit Jordan Lee").click()
        consumer.media_arrives()
        camera_width = you.evaluate(REMOTE_WIDTH)

        staff.get_by_role("button", name="Share screen").click()
        expect(staff.get_by_role("button", name="Stop sharing")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(you.locator("#tiles .tile.remote")).to_contain_text("sharing screen")
        you.wait_for_function(f"() => ({REMOTE_WIDTH})() !== {camera_width}", timeout=15000)
        shared_label = staff.evaluate(LOCAL_LABEL)
        consumer.shot(folder, "call-screen-phone")
        provider.shot(folder, "call-screen-desktop")

        staff.get_by_role("button", name="Stop sharing").click()
        expect(you.locator("#tiles .tile.remote")).not_to_contain_text("sharing screen")
        you.wait_for_function(f"() => ({REMOTE_WIDTH})() === {camera_width}", timeout=15000)
        camera_label = staff.evaluate(LOCAL_LABEL)
    assert shared_label.startswith("screen:")
    assert not camera_label.startswith("screen:")
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
