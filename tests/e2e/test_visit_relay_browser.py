"""A relay-only visit through the app's own pages and a real coturn.

The server runs with the ICE settings a deployment that hides the peers' addresses
would use (OPENVISIT_TURN_URLS, OPENVISIT_TURN_SECRET, OPENVISIT_ICE_TRANSPORT_POLICY=relay),
against Debian's coturn on loopback (tests/media/coturn.py). The consumer's join page and
the provider's visit page take their TURN credentials from the `welcome` frame, signed by
the wall clock while the visit's clock stays pinned to its day: both decode the other's
video over a relay/relay candidate pair, and coturn's log names both participants. With a
secret coturn does not share, no relay is allocated and both pages say "Can't connect the
call" (#call-trouble) within the call page's bound instead of showing "connecting…".
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from openvisit.auth.sessions import SESSION_COOKIE
from openvisit.config import Settings
from tests.e2e.test_visit_call_browser import (  # noqa: F401 - fixtures
    DESKTOP,
    PHONE,
    Side,
    folder,
    sides,
    visit,
)
from tests.live import serve
from tests.media.coturn import TurnServer, running_turnserver
from tests.visits import Visit

pytestmark = pytest.mark.e2e

# call.js shows the notice after 20 s without a connection, sooner when it knows.
TROUBLE_SECONDS = 25.0


@pytest.fixture
def turn_server(tmp_path: Path) -> Iterator[TurnServer]:
    with running_turnserver(tmp_path / "coturn", secrets.token_hex(24)) as server:
        yield server


def relay_only(app: Any, tmp_path: Path, turn: TurnServer, secret: str) -> None:
    """The app's runtime with the ICE settings read the way `openvisit serve` reads them."""
    settings = Settings(
        data_dir=tmp_path / "settings",
        turn_urls=turn.url,
        turn_secret=secret,
        ice_transport_policy="relay",
    )
    app.state.runtime = dataclasses.replace(app.state.runtime, ice=settings.ice_config)


def into_the_call(base_url: str, booked: Visit, provider: Side, consumer: Side) -> None:
    """The consumer checks and waits; the provider, on the visit page, admits them."""
    provider.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": booked.provider_cookie, "url": base_url}]
    )
    provider.page.goto(f"{base_url}/visits/{booked.meeting_id}")
    consumer.page.goto(f"{base_url}/join/{booked.consumer_token}")
    consumer.page.get_by_role("button", name="Start the check").click()
    # "Continue to the waiting room" when the relay answered the check, else "Join anyway".
    consumer.page.locator("#check-continue").click(timeout=20000)
    expect(consumer.page.locator("#stage-lobby")).to_be_visible(timeout=10000)
    provider.page.get_by_role("button", name="Admit Jordan Lee").click()
    expect(consumer.page.locator("#stage-call")).to_be_visible(timeout=10000)


def only_peer(side: Side) -> tuple[str, dict[str, Any]]:
    stats: dict[str, dict[str, Any]] = side.page.evaluate("() => window.openvisitCall.stats()")
    [(peer_id, peer)] = stats.items()
    return peer_id, peer


def test_a_relay_only_visit_carries_video_both_ways_through_coturn(
    app,
    media_chromium: Browser,
    visit: Visit,  # noqa: F811 - the imported fixture
    sides,  # noqa: F811
    turn_server: TurnServer,
    tmp_path: Path,
):
    relay_only(app, tmp_path, turn_server, turn_server.secret)
    with serve(app) as base_url:
        provider = Side(media_chromium, base_url, DESKTOP)
        consumer = Side(media_chromium, base_url, PHONE)
        sides += [provider, consumer]
        started = time.monotonic()
        into_the_call(base_url, visit, provider, consumer)
        provider.media_arrives()
        consumer.media_arrives()
        connected_seconds = time.monotonic() - started

        consumer_id, theirs_at_provider = only_peer(provider)
        provider_id, theirs_at_consumer = only_peer(consumer)
        for peer in (theirs_at_provider, theirs_at_consumer):
            assert peer["framesDecoded"] > 0
            assert (peer["localCandidateType"], peer["remoteCandidateType"]) == ("relay", "relay")
        for side in sides:
            expect(side.page.locator("#call-trouble")).to_be_hidden()
    # coturn allocated for the credentials the welcome frames handed each participant.
    log = turn_server.log_text()
    assert f":{consumer_id}" in log
    assert f":{provider_id}" in log
    for side in sides:
        assert side.errors == []
        assert side.csp == []
    print(f"check to media over the relay: {connected_seconds:.1f} s")  # noqa: T201 - for -s


def test_a_turn_server_that_refuses_the_credentials_is_explained(
    app,
    media_chromium: Browser,
    visit: Visit,  # noqa: F811 - the imported fixture
    sides,  # noqa: F811
    folder: Path,  # noqa: F811
    turn_server: TurnServer,
    tmp_path: Path,
):
    relay_only(app, tmp_path, turn_server, secrets.token_hex(24))  # not coturn's secret
    with serve(app) as base_url:
        provider = Side(media_chromium, base_url, DESKTOP)
        consumer = Side(media_chromium, base_url, PHONE)
        sides += [provider, consumer]
        into_the_call(base_url, visit, provider, consumer)
        admitted = time.monotonic()

        trouble = consumer.page.locator("#call-trouble")
        expect(trouble).to_be_visible(timeout=TROUBLE_SECONDS * 1000)
        shown_seconds = time.monotonic() - admitted
        expect(trouble).to_contain_text("Can't connect the call")
        expect(trouble).to_contain_text("Try another network")
        expect(trouble).to_contain_text("Your provider can also phone you.")
        consumer.shot(folder, "call-trouble-phone")
        staff_trouble = provider.page.locator("#call-trouble")
        expect(staff_trouble).to_be_visible(timeout=TROUBLE_SECONDS * 1000)
        expect(staff_trouble).to_contain_text("or phone them.")
        provider.shot(folder, "call-trouble-desktop")
        for side in (provider, consumer):
            _peer_id, peer = only_peer(side)
            assert peer["framesDecoded"] == 0
            assert peer["localCandidateType"] is None  # no pair was ever selected
    assert "401" in turn_server.log_text()
    for side in sides:
        assert side.errors == []
        assert side.csp == []
        assert side.violations == []
    print(f"admitted to the notice: {shown_seconds:.1f} s")  # noqa: T201 - for -s
