"""The join link in Chromium with fake camera and microphone: the device check at a
phone's size passes and is stored; a blocked camera, an unsupported browser and a refused
link explain themselves; a refused link opens no WebSocket. axe finds no serious or
critical violation and nothing breaks the pages' CSP. OPENVISIT_TEST_SCREENSHOTS=<folder>
keeps the screenshots."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from openvisit.store.models import MeetingParticipant
from tests.e2e.axe import blocking_violations, serve_axe
from tests.e2e.test_sign_in_browser import collect_csp_violations
from tests.live import serve
from tests.visits import Visit, make_visit

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MEDIA = ["camera", "microphone"]


@pytest.fixture
def visit(runtime) -> Visit:
    return make_visit(runtime)


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OPENVISIT_TEST_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stored_check(app: Any, meeting_id: str) -> dict[str, Any] | None:
    with app.state.runtime.db.read() as session:
        row = session.scalars(
            select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id)
        ).one_or_none()
        return None if row is None else row.device_check


def context_for(
    browser: Browser, viewport: ViewportSize, base_url: str, *, grant: bool
) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="America/Chicago")
    if grant:
        context.grant_permissions(MEDIA, origin=base_url)
    return context


def sockets_of(page: Page) -> list[str]:
    opened: list[str] = []
    page.on("websocket", lambda socket: opened.append(socket.url))
    return opened


def run_check(page: Page) -> None:
    page.get_by_role("button", name="Start the check").click()
    expect(page.locator("body")).to_have_attribute("data-device-check", "saved", timeout=20000)


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_device_check_passes_and_is_stored(
    app, media_chromium: Browser, visit, tmp_path, viewport, name
):
    folder = shots(tmp_path)
    with serve(app) as base_url:
        context = context_for(media_chromium, viewport, base_url, grant=True)
        page = context.new_page()
        csp = collect_csp_violations(page)
        serve_axe(page)
        try:
            page.goto(f"{base_url}/join/{visit.consumer_token}/check")
            expect(
                page.get_by_role("heading", name="Check your camera, microphone and connection")
            ).to_be_visible()
            run_check(page)

            results = page.locator("#check-results")
            for item in ("browser", "camera", "microphone", "network"):
                expect(results.locator(f'[data-item="{item}"]')).to_have_attribute(
                    "data-state", "ok"
                )
            expect(
                page.get_by_text("Everything works. You are ready for your visit.")
            ).to_be_visible()
            expect(page.get_by_text(re.compile(r"Response time: \d+ ms"))).to_be_visible()
            # The fake microphone beeps: the level meter moves.
            page.wait_for_function(
                "() => document.getElementById('mic-level').value > 0.01", timeout=10000
            )
            assert page.evaluate("document.getElementById('check-preview').videoWidth") > 0
            assert page.locator("#pick-camera option").count() >= 1

            page.get_by_role("button", name="Play a test sound").click()
            page.get_by_role("button", name="Yes").click()
            expect(results.locator('[data-item="speaker"]')).to_have_attribute("data-state", "ok")
            page.wait_for_function("() => document.body.dataset.deviceCheck === 'saved'")
            page.screenshot(path=str(folder / f"check-{name}.png"), full_page=True)
            violations = blocking_violations(page, f"check-{name}")
        finally:
            context.close()
    stored = stored_check(app, visit.meeting_id)
    assert stored is not None
    assert stored["camera"] == stored["microphone"] == "ok"
    assert stored["speaker"] == "ok"
    assert stored["browser"]["supported"] is True
    assert stored["browser"]["name"].startswith("Chrome ")
    assert stored["network"]["reachable"] is True
    assert stored["network"]["relay"] is False  # no TURN configured
    assert isinstance(stored["network"]["roundTripMs"], int)
    assert stored["network"]["downlinkKbps"] > 0
    assert violations == []
    assert csp == []


def test_the_device_check_speaks_german(app, media_chromium: Browser, visit, tmp_path):
    with serve(app) as base_url:
        context = media_chromium.new_context(viewport=PHONE, locale="de-DE")
        context.grant_permissions(MEDIA, origin=base_url)
        page = context.new_page()
        csp = collect_csp_violations(page)
        try:
            page.goto(f"{base_url}/join/{visit.consumer_token}")
            expect(
                page.get_by_role("heading", name="Kamera, Mikrofon und Verbindung prüfen")
            ).to_be_visible()
            page.get_by_role("button", name="Test starten").click()
            expect(page.locator("body")).to_have_attribute(
                "data-device-check", "saved", timeout=20000
            )
            expect(
                page.get_by_text("Alles funktioniert. Sie sind bereit für Ihren Termin.")
            ).to_be_visible()
            expect(page.get_by_text(re.compile(r"Antwortzeit: \d+ ms"))).to_be_visible()
            page.get_by_role("button", name="Weiter zum Wartezimmer").click()
            expect(page.locator("#stage-check")).to_be_hidden()
            # A day early there is no queue place yet (the queue is the provider's day).
            expect(page.get_by_text("Ihre Ansprechperson lässt Sie gleich herein.")).to_be_visible(
                timeout=10000
            )
            page.screenshot(path=str(shots(tmp_path) / "lobby-de-phone.png"), full_page=True)
        finally:
            context.close()
    assert csp == []


def test_a_blocked_camera_explains_how_to_fix_it(app, media_chromium: Browser, visit, tmp_path):
    with serve(app) as base_url:
        context = context_for(media_chromium, PHONE, base_url, grant=False)
        page = context.new_page()
        csp = collect_csp_violations(page)
        serve_axe(page)
        try:
            page.goto(f"{base_url}/join/{visit.consumer_token}")
            run_check(page)

            problem = page.get_by_role("alert")
            expect(
                problem.get_by_role("heading", name="Camera or microphone blocked")
            ).to_be_visible()
            expect(
                problem.get_by_text(re.compile(r"^Chrome: tap the icon left of the address"))
            ).to_be_visible()
            expect(problem.get_by_role("button", name="Reload the page")).to_be_visible()
            expect(page.get_by_role("button", name="Join anyway")).to_be_visible()
            page.screenshot(path=str(shots(tmp_path) / "check-blocked-phone.png"), full_page=True)
            violations = blocking_violations(page, "check-blocked")
        finally:
            context.close()
    stored = stored_check(app, visit.meeting_id)
    assert stored is not None
    assert (stored["camera"], stored["microphone"]) == ("blocked", "blocked")
    assert violations == []
    assert csp == []


def test_a_browser_without_webrtc_is_told_what_to_use(app, media_chromium: Browser, visit):
    with serve(app) as base_url:
        context = context_for(media_chromium, PHONE, base_url, grant=True)
        context.add_init_script("delete window.RTCPeerConnection;")
        page = context.new_page()
        opened = sockets_of(page)
        try:
            page.goto(f"{base_url}/join/{visit.consumer_token}")

            expect(
                page.get_by_role("heading", name="This browser cannot make video calls")
            ).to_be_visible()
            expect(
                page.get_by_text(re.compile("current version of Chrome, Edge, Firefox or Safari"))
            ).to_be_visible()
            expect(page.get_by_role("button", name="Start the check")).to_be_hidden()
            page.wait_for_function("() => document.body.dataset.deviceCheck === 'saved'")
        finally:
            context.close()
    stored = stored_check(app, visit.meeting_id)
    assert stored is not None
    assert stored["browser"]["supported"] is False
    assert opened == []


@pytest.mark.parametrize("damage", ["tampered", "expired"])
def test_a_refused_link_opens_no_socket_and_no_camera(
    app, media_chromium: Browser, visit, clock, tmp_path, damage
):
    token = visit.consumer_token
    if damage == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        clock.advance(timedelta(days=2))
    with serve(app) as base_url:
        context = context_for(media_chromium, PHONE, base_url, grant=True)
        page = context.new_page()
        opened = sockets_of(page)
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        csp = collect_csp_violations(page)
        serve_axe(page)
        try:
            answer = page.goto(f"{base_url}/join/{token}")
            heading = "This link does not work" if damage == "tampered" else "This link has expired"
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            page.wait_for_timeout(1000)  # time for any script to try something
            violations = blocking_violations(page, f"refused-{damage}")
            page.screenshot(
                path=str(shots(tmp_path) / f"refused-{damage}-phone.png"), full_page=True
            )
            camera_used = page.evaluate(
                "navigator.mediaDevices.enumerateDevices().then(d => d.length)"
            )
        finally:
            context.close()
    assert answer is not None
    assert answer.status == (404 if damage == "tampered" else 410)
    assert opened == []
    assert not [url for url in requests if "/static/visit/" in url or "/realtime" in url]
    assert camera_used >= 0
    assert violations == []
    assert csp == []


def test_a_device_passed_before_goes_straight_to_the_waiting_room(
    app, media_chromium: Browser, visit
):
    with serve(app) as base_url:
        context = context_for(media_chromium, PHONE, base_url, grant=True)
        page = context.new_page()
        opened = sockets_of(page)
        try:
            page.goto(f"{base_url}/join/{visit.consumer_token}")
            run_check(page)
            page.get_by_role("button", name="Continue to the waiting room").click()
            page.wait_for_function("() => document.body.dataset.stage !== 'check'")
            page.wait_for_timeout(500)
            page.reload()
            # Checked before on this device: no check stage, the socket opens at once.
            expect(page.locator("#stage-check")).to_be_hidden()
            page.wait_for_function("() => document.body.dataset.stage !== 'check'")
            page.wait_for_timeout(1000)
        finally:
            context.close()
    assert any(url.endswith("/realtime/v1") for url in opened)
