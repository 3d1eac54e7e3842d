"""A call comes back from a network stall through an ICE restart, the WebSocket staying up.

The consumer runs in a Chromium of its own. Chromium keeps every socket of a browser in
its network service process, the page's WebSocket and the peer connection's UDP alike;
SIGSTOP on that process is a network that stalls without the device noticing (a Wi-Fi
gone quiet): nothing arrives, nothing leaves, no `offline` event. The provider's peer
connection goes `disconnected`, the page restarts ICE after 5 s of it (call.js), the
stall ends (SIGCONT), and the restarted connection carries video again, in the same
peer connection: no rejoin, no reconnect of the page.

Why not `context.set_offline`: measured on Debian's Chromium 156, DevTools' offline
emulation (and its WebRTC `packetLoss`) leaves peer connections untouched, and a page
told it is offline drops its WebSocket and rejoins with new peer connections, the path
test_visit_call_browser.py covers. Neither would reach the restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from openvisit.auth.sessions import SESSION_COOKIE
from tests.e2e.conftest import CHROMIUM, MEDIA_ARGS
from tests.e2e.test_visit_call_browser import DESKTOP, PHONE, Side, sides, visit  # noqa: F401 - fixtures
from tests.e2e.test_visit_group_browser import check_and_wait
from tests.live import serve
from tests.visits import Visit

pytestmark = pytest.mark.e2e

NETWORK_SERVICE = b"--utility-sub-type=network.mojom.NetworkService"
RESTART_SECONDS = 20.0  # stalled to restarted: measured 10-13 s (~5 s to notice, 5 s wait)
RECOVER_SECONDS = 20.0
FRAMES_AFTER = 20  # one second of the fake camera's video


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The parent pid is the field after the parenthesized command name.
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants() -> dict[int, int]:
    """Every process this test process started, directly or not: pid -> parent pid."""
    tree = _children()
    found: dict[int, int] = {}
    todo = [os.getpid()]
    while todo:
        parent = todo.pop()
        for child in tree.get(parent, []):
            found[child] = parent
            todo.append(child)
    return found


def _is_network_service(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return NETWORK_SERVICE in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


@dataclass
class OwnBrowser:
    """A Chromium of the consumer's own, and how to freeze and thaw its network."""

    browser: Browser
    older: set[int]  # processes there before it: the other Chromium's
    frozen: int | None = None

    def network_service(self) -> int:
        # Started once a page needs the network; a child of this browser's own process.
        [pid] = [
            pid
            for pid, parent in descendants().items()
            if parent not in self.older and pid not in self.older and _is_network_service(pid)
        ]
        return pid

    def freeze(self) -> None:
        self.frozen = self.network_service()
        os.kill(self.frozen, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.frozen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.frozen, signal.SIGCONT)
            self.frozen = None


@pytest.fixture
def own_browser(media_chromium: Browser) -> Iterator[OwnBrowser]:
    older = set(descendants())
    own = OwnBrowser(
        media_chromium.browser_type.launch(executable_path=CHROMIUM, args=MEDIA_ARGS), older
    )
    try:
        yield own
    finally:
        own.thaw()  # never leave a browser frozen
        own.browser.close()


def _peer(side: Side) -> tuple[str, dict[str, Any]]:
    stats: dict[str, dict[str, Any]] = side.page.evaluate("() => window.openvisitCall.stats()")
    [(peer_id, peer)] = stats.items()
    return peer_id, peer


def _until(side: Side, seconds: float, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        _peer_id, peer = _peer(side)
        if done(peer):
            return peer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {peer}")
        side.page.wait_for_timeout(250)


def test_a_stalled_network_recovers_through_an_ice_restart(
    app,
    media_chromium: Browser,
    own_browser: OwnBrowser,
    visit: Visit,  # noqa: F811 - the imported fixture
    sides,  # noqa: F811
):
    with serve(app) as base_url:
        provider = Side(media_chromium, base_url, DESKTOP)
        consumer = Side(own_browser.browser, base_url, PHONE)
        sides += [provider, consumer]
        provider.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": visit.provider_cookie, "url": base_url}]
        )
        provider.page.goto(f"{base_url}/visits/{visit.meeting_id}")
        check_and_wait(consumer, f"{base_url}/join/{visit.consumer_token}")
        provider.page.get_by_role("button", name="Admit Jordan Lee").click()
        provider.media_arrives()
        consumer.media_arrives()
        peer_id, before = _peer(provider)
        assert before["iceRestarts"] == 0

        started = time.monotonic()
        own_browser.freeze()
        try:
            stalled = _until(provider, RESTART_SECONDS, lambda peer: peer["iceRestarts"] >= 1)
        finally:
            own_browser.thaw()
        stalled_seconds = time.monotonic() - started
        assert stalled["iceState"] in ("disconnected", "failed", "checking")

        # The same peer connection (a rejoin would make a new one, with no restart counted)
        # is connected again and decodes video; so is the consumer's.
        recovered = _until(
            provider,
            RECOVER_SECONDS,
            lambda peer: (
                peer["iceState"] in ("connected", "completed")
                and peer["framesDecoded"] >= stalled["framesDecoded"] + FRAMES_AFTER
            ),
        )
        assert _peer(provider)[0] == peer_id
        assert recovered["iceRestarts"] >= 1
        # Both sides took new ICE credentials: the restart was negotiated, not only asked.
        assert all(
            new != old for new, old in zip(recovered["iceUfrags"], before["iceUfrags"], strict=True)
        )
        assert None not in recovered["iceUfrags"]
        _consumer_id, theirs = _peer(consumer)
        _until(
            consumer,
            RECOVER_SECONDS,
            lambda peer: peer["framesDecoded"] >= theirs["framesDecoded"] + FRAMES_AFTER,
        )
        # The page never lost its WebSocket: the stall was shorter than three heartbeats.
        expect(consumer.page.locator("#connection-status")).to_be_empty()
        expect(consumer.page.locator("#stage-call")).to_be_visible()
        print(f"stalled {stalled_seconds:.1f} s until the restart")  # noqa: T201 - a figure, for -s
    for side in sides:
        assert side.errors == []
        assert side.csp == []
