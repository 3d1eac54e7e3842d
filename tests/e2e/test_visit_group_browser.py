"""Three people in one visit, in three Chromium contexts: the provider invites a guest (an
interpreter) from the visit page, the guest opens the link, waits, is admitted, and the
mesh carries video and audio between all three. Heaviest browser test: run it alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from openvisit.auth.sessions import SESSION_COOKIE
from tests.e2e.test_visit_call_browser import DESKTOP, PHONE, Side, folder, sides, visit  # noqa: F401 - fixtures
from tests.live import serve
from tests.visits import Visit

pytestmark = pytest.mark.e2e


def check_and_wait(side: Side, url: str) -> None:
    side.page.goto(url)
    side.page.get_by_role("button", name="Start the check").click()
    side.page.get_by_role("button", name="Continue to the waiting room").click(timeout=20000)
    expect(side.page.locator("#stage-lobby")).to_be_visible(timeout=10000)


def with_media_from(side: Side, count: int) -> None:
    """Waits until `count` peers each send video and audio to `side`."""
    side.page.wait_for_timeout(250)
    for _attempt in range(120):
        stats = side.page.evaluate("() => window.openvisitCall ? window.openvisitCall.stats() : {}")
        flowing = [
            s for s in stats.values() if s["framesDecoded"] > 0 and s["totalSamplesReceived"] > 0
        ]
        if len(flowing) >= count:
            return
        side.page.wait_for_timeout(250)
    raise AssertionError(f"media from {count} peers did not arrive: {stats}")


def test_a_guest_joins_a_visit_of_three(
    app,
    media_chromium: Browser,
    visit: Visit,  # noqa: F811 - the imported fixture
    sides,  # noqa: F811
    folder: Path,  # noqa: F811
):
    with serve(app) as base_url:
        provider = Side(media_chromium, base_url, DESKTOP)
        consumer = Side(media_chromium, base_url, PHONE)
        sides += [provider, consumer]
        provider.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        staff = provider.page
        staff.goto(f"{base_url}/visits/{visit.meeting_id}")
        check_and_wait(consumer, f"{base_url}/join/{visit.consumer_token}")
        staff.get_by_role("button", name="Admit Jordan Lee").click()
        with_media_from(consumer, 1)

        staff.get_by_label("Guest's name").fill("Maria (interpreter)")
        staff.get_by_role("button", name="Make a link").click()
        link = staff.get_by_label("Their link (send it to them)")
        expect(link).not_to_have_value("", timeout=10000)
        guest_url = link.input_value()
        assert guest_url.startswith(f"{base_url}/join/")

        guest = Side(media_chromium, base_url, PHONE)
        sides.append(guest)
        check_and_wait(guest, guest_url)
        staff.get_by_role("button", name="Admit Maria (interpreter)").click()

        with_media_from(guest, 2)
        with_media_from(consumer, 2)
        with_media_from(provider, 2)
        expect(consumer.page.locator("#tiles")).to_have_attribute("data-count", "3")
        guest.shot(folder, "call-three-phone")
        provider.shot(folder, "call-three-desktop")
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
