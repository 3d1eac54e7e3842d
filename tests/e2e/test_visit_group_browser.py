"""Three people in one visit, in three Chromium contexts: the provider invites a guest (an
interpreter) from the visit page, the guest opens the link, types their own name, waits,
is admitted, and the mesh carries video and audio between all three; the provider sees
the guest's name (as text, markup and all) in the waiting list, on the day board, in the
people list and in chat, and a reload does not ask the guest again. Heaviest browser
test: run it alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from openvisit.auth.sessions import SESSION_COOKIE
from tests.e2e.test_visit_call_browser import DESKTOP, PHONE, Side, folder, sides, visit  # noqa: F401 - fixtures
from tests.live import serve
from tests.visits import Visit

pytestmark = pytest.mark.e2e


GUEST = "<b>Ana</b> (interpreter)"  # markup in a name is shown as typed, never rendered


def check_and_wait(side: Side, url: str | None = None) -> None:
    if url is not None:
        side.page.goto(url)
    side.page.get_by_role("button", name="Start the check").click()
    side.page.get_by_role("button", name="Continue to the waiting room").click(timeout=20000)
    expect(side.page.locator("#stage-lobby")).to_be_visible(timeout=10000)


def name_themselves(guest: Side, url: str, shots: Path) -> None:
    """The guest's link asks their name first, prefilled with the invitation's."""
    page = guest.page
    page.goto(url)
    name = page.get_by_label("Your name", exact=True)
    expect(name).to_have_value("Maria (interpreter)")
    expect(page.locator("#stage-check")).to_be_hidden()
    guest.shot(shots, "guest-name-phone")
    page.set_viewport_size(DESKTOP)
    guest.shot(shots, "guest-name-desktop")
    page.set_viewport_size(PHONE)
    name.fill("   ")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#guest-name-error")).to_have_text("Enter your name.")
    expect(name).to_have_attribute("aria-invalid", "true")
    guest.shot(shots, "guest-name-error-phone")
    name.fill(f"  {GUEST} ")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#stage-name")).to_be_hidden()


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
        name_themselves(guest, guest_url, folder)
        check_and_wait(guest)
        waiting = staff.locator("#waiting-list > li").filter(has_text=GUEST)
        expect(waiting.locator(".name")).to_have_text(GUEST)
        expect(waiting.locator("b")).to_have_count(0)
        board = provider.context.new_page()  # the day board, beside the visit
        board.goto(f"{base_url}/visits/today")
        # The visit is in its call (the customer is in), and its row says who waits.
        expect(board.locator('[data-list="inCall"] .waiters')).to_have_text(
            f"Guest waiting: {GUEST}"
        )
        board.close()
        staff.get_by_role("button", name=f"Admit {GUEST}").click()

        with_media_from(guest, 2)
        with_media_from(consumer, 2)
        with_media_from(provider, 2)
        expect(consumer.page.locator("#tiles")).to_have_attribute("data-count", "3")
        expect(staff.locator("#tiles .tile.remote .name")).to_contain_text([GUEST])
        expect(staff.locator("#people")).to_contain_text(f"{GUEST} · Guest")
        guest.page.get_by_role("button", name=re.compile("^Chat")).click()
        guest.page.get_by_label("Message", exact=True).fill("Hola, I translate.")
        guest.page.locator("#call-chat-form").get_by_role("button", name="Send").click()
        said = staff.locator("#call-chat li").filter(has_text="Hola, I translate.")
        expect(said.locator(".who")).to_have_text(GUEST)
        guest.shot(folder, "call-three-phone")
        provider.shot(folder, "call-three-desktop")

        # A reload goes straight back into the call, under the same name: not asked again.
        guest.page.reload()
        expect(guest.page.locator("#stage-call")).to_be_visible(timeout=15000)
        expect(guest.page.locator("#stage-name")).to_be_hidden()
        with_media_from(guest, 2)
        expect(staff.locator("#people")).to_contain_text(f"{GUEST} · Guest")
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
