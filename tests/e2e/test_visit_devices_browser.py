"""Switching the camera and microphone in the call (two fake cameras, three fake
microphones): the sender's track is replaced without a new connection, and the other
side keeps receiving video and audio."""

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

TWO_CAMERAS = [
    "--use-fake-device-for-media-stream=device-count=2"
    if arg == "--use-fake-device-for-media-stream"
    else arg
    for arg in MEDIA_ARGS
]
LOCAL_TRACKS = """() => {
  const stream = document.getElementById('local-video').srcObject;
  return [stream.getVideoTracks()[0].label, stream.getAudioTracks()[0].label];
}"""


@pytest.fixture(scope="module")
def two_camera_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=TWO_CAMERAS)
        yield browser
        browser.close()


def received(side: Side) -> tuple[int, int]:
    stats = side.media_arrives()
    (only,) = stats.values()
    return only["framesDecoded"], only["totalSamplesReceived"]


def test_switching_devices_in_the_call(
    app,
    two_camera_chromium: Browser,
    visit: Visit,  # noqa: F811 - the imported fixture
    sides,  # noqa: F811
    folder: Path,  # noqa: F811
):
    with serve(app) as base_url:
        provider = Side(two_camera_chromium, base_url, DESKTOP)
        consumer = Side(two_camera_chromium, base_url, PHONE)
        sides += [provider, consumer]
        provider.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        provider.page.goto(f"{base_url}/visits/{visit.meeting_id}")
        you = consumer.page
        you.goto(f"{base_url}/join/{visit.consumer_token}")
        you.get_by_role("button", name="Start the check").click()
        you.get_by_role("button", name="Continue to the waiting room").click(timeout=20000)
        provider.page.get_by_role("button", name="Admit Jordan Lee").click()
        frames_before, samples_before = received(provider)
        peers_before = provider.page.evaluate("() => window.openvisitCall.peers()")

        you.get_by_role("button", name="Devices").click()
        devices = you.get_by_role("region", name="Devices")
        devices.get_by_label("Camera").select_option(label="fake_device_1")
        devices.get_by_label("Microphone").select_option(label="Fake Audio Input 2")
        you.wait_for_function(
            "() => document.getElementById('local-video').srcObject"
            ".getVideoTracks()[0].label === 'fake_device_1'"
        )
        tracks = you.evaluate(LOCAL_TRACKS)
        provider.page.wait_for_timeout(1500)
        frames_after, samples_after = received(provider)
        expect(you.locator("#panel-devices")).to_be_visible()
        consumer.shot(folder, "call-devices-phone")
        peers_after = provider.page.evaluate("() => window.openvisitCall.peers()")
    assert tracks == ["fake_device_1", "Fake Audio Input 2"]
    # The same connection (no renegotiation), still carrying video and audio.
    assert peers_after == peers_before
    assert frames_after > frames_before
    assert samples_after > samples_before
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
