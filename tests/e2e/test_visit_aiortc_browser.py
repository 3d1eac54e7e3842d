"""An aiortc peer joins a visit as the consumer and exchanges media with the provider's Chromium.

The Python participant speaks /realtime/v1 with the `websockets` client (hello, welcome in
the lobby, admitted, then the offer with the whole SDP and the page's answer), exactly as
docs/realtime-protocol.md describes it for any client; the provider, signed in, sees it
waiting on the visit page and admits it. The page's getStats shows frames decoded and
audio samples received from the aiortc peer, and the aiortc peer receives video frames
and non-silent audio from the page's fake devices. Heavy (a browser in a call): run alone.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.clock import FixedClock
from openvisit.runtime import Runtime
from tests.e2e.test_visit_call_browser import DESKTOP, Side
from tests.live import serve
from tests.media.peers import rms, use_loopback_host_addresses
from tests.media.visit_peer import ThreadedVisitPeer, VisitPeer
from tests.visits import Visit, make_visit

pytestmark = pytest.mark.e2e

MORNING = datetime.fromisoformat("2026-11-24T14:45:00+00:00")  # 09:45 in New York
MEDIA_SECONDS = 30


@pytest.fixture
def visit(runtime: Runtime, clock: FixedClock) -> Visit:
    booked = make_visit(dataclasses.replace(runtime, session_max_age_seconds=48 * 3600))
    clock.advance(MORNING - clock.now())
    return booked


@pytest.fixture
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    use_loopback_host_addresses(monkeypatch)


def page_stats(side: Side) -> dict[str, Any]:
    stats: dict[str, Any] = side.page.evaluate(
        "() => window.openvisitCall ? window.openvisitCall.stats() : {}"
    )
    return stats


def test_an_aiortc_participant_and_a_browser(
    app, media_chromium: Browser, visit: Visit, loopback_ice: None
) -> None:
    with serve(app) as base_url:
        provider = Side(media_chromium, base_url, DESKTOP)
        try:
            provider.context.add_cookies(
                [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
            )
            board = provider.page
            board.goto(f"{base_url}/visits/{visit.meeting_id}")
            expect(board.locator("#stage-call")).to_be_visible(timeout=15000)

            with ThreadedVisitPeer(lambda: VisitPeer(base_url, visit.consumer_token)) as threaded:
                peer = threaded.peer
                assert peer.welcome["you"]["role"] == "consumer"
                assert peer.welcome["snapshot"]["state"] == "lobby"
                lobby = threaded.run(
                    lambda: peer.wait_for(lambda f: f["type"] == "lobby", timeout=10), timeout=15
                )
                assert lobby["position"] == 1

                item = board.locator("#waiting-list > li").filter(has_text="Jordan Lee")
                expect(item).to_be_visible(timeout=10000)
                item.get_by_role("button", name="Admit Jordan Lee").click()

                # Admitted, it offers to the provider (the only one in the call).
                threaded.run(
                    lambda: peer.wait_until(lambda: len(peer.peers) == 1, timeout=15),
                    timeout=15,
                )
                (remote,) = peer.peers.values()
                threaded.run(
                    lambda: peer.wait_until(
                        lambda: remote.pc.connectionState == "connected", timeout=20
                    ),
                    timeout=20,
                )

                # The page decodes the aiortc peer's colour and tone.
                deadline = time.monotonic() + MEDIA_SECONDS
                stats: dict[str, Any] = {}
                while time.monotonic() < deadline:
                    stats = page_stats(provider)
                    mine = stats.get(peer.participant_id, {})
                    if mine.get("framesDecoded", 0) > 10 and mine.get("totalSamplesReceived", 0):
                        break
                    board.wait_for_timeout(250)
                else:
                    raise AssertionError(f"the page got no media from aiortc: {stats}")
                assert list(stats) == [peer.participant_id]
                tile = board.locator(
                    f'#tiles .tile.remote[data-participant="{peer.participant_id}"]'
                )
                expect(tile).to_contain_text("Jordan Lee")
                width = tile.locator("video").evaluate("video => video.videoWidth")
                assert width == 320

                # And the aiortc peer gets the page's fake camera and its beeping microphone.
                threaded.run(
                    lambda: peer.wait_until(
                        lambda: (
                            len(remote.video) >= 30
                            and any(rms(frame) > 100 for frame in remote.audio)
                        ),
                        timeout=MEDIA_SECONDS,
                    ),
                    timeout=MEDIA_SECONDS,
                )
                assert remote.video[-1].width > 0

                # It leaves; the page drops its tile.
                threaded.run(peer.leave, timeout=5)
                expect(tile).to_have_count(0, timeout=10000)
            assert provider.errors == []
            assert provider.csp == []
        finally:
            provider.context.close()
