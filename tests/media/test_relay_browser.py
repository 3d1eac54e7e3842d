"""Chromium through coturn: a relay-only call between two peer connections of one page,
each with its own TURN REST credentials from meetings/ice.py, as a visit page gets them.

The page takes Chromium's fake camera and microphone; success is video frames decoded
and audio samples received over a candidate pair whose local side is a relay. With a
wrong secret Chromium reports TURN error 401 and no frame arrives.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from openvisit.clock import SystemClock
from openvisit.meetings.ice import IceConfig, rtc_configuration
from tests.live import serve_asgi
from tests.media.coturn import TurnServer

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"  # scripts/ensure-chromium
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",  # the audio sinks play without a click
]
CONNECT_SECONDS = 20.0
REFUSED_WATCH_SECONDS = 3.0

PAGE = """<!doctype html><meta charset="utf-8"><title>relay</title><script>
const gathered = pc => new Promise(done => {
  const check = () => pc.iceGatheringState === "complete" && done();
  pc.addEventListener("icegatheringstatechange", check); check();
});
window.iceErrors = [];
window.call = async (consumer, provider) => {
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const a = new RTCPeerConnection(consumer), b = new RTCPeerConnection(provider);
  for (const pc of [a, b]) {
    pc.addEventListener("icecandidateerror", e => window.iceErrors.push(e.errorCode));
    // Chromium decodes received audio only for a sink that plays it, as a call page has.
    pc.addEventListener("track", e => {
      if (e.track.kind !== "audio") return;
      const sink = document.createElement("audio");
      sink.autoplay = true; sink.srcObject = new MediaStream([e.track]);
      document.body.append(sink);
    });
    stream.getTracks().forEach(track => pc.addTrack(track, stream));
  }
  window.peers = [a, b];
  // Descriptions go once gathering is complete, as the visit's signaling sends them.
  await a.setLocalDescription(await a.createOffer()); await gathered(a);
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer()); await gathered(b);
  await a.setRemoteDescription(b.localDescription);
};
window.report = async () => Promise.all(window.peers.map(async pc => {
  const stats = [...(await pc.getStats()).values()];
  const byId = Object.fromEntries(stats.map(s => [s.id, s]));
  const inbound = kind => stats.find(s => s.type === "inbound-rtp" && s.kind === kind) || {};
  const transport = stats.find(s => s.type === "transport") || {};
  const pair = byId[transport.selectedCandidatePairId] || {};
  return {
    state: pc.connectionState,
    framesDecoded: inbound("video").framesDecoded || 0,
    samplesReceived: inbound("audio").totalSamplesReceived || 0,
    localType: (byId[pair.localCandidateId] || {}).candidateType || null,
    remoteType: (byId[pair.remoteCandidateId] || {}).candidateType || null,
    candidates: pc.localDescription.sdp.split("\\n").filter(l => l.startsWith("a=candidate"))
      .map(l => l.split(" typ ")[1].split(" ")[0]),
  };
}));
</script>"""


async def _page(_request: Any) -> HTMLResponse:
    return HTMLResponse(PAGE)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    with serve_asgi(Starlette(routes=[Route("/", _page)])) as url:
        page = context.new_page()
        page.goto(url)  # http://127.0.0.1 is a secure context: getUserMedia works
        yield page
    context.close()


def _start(page: Page, turn: TurnServer, secret: str) -> None:
    config = IceConfig(turn_urls=(turn.url,), turn_secret=secret, transport_policy="relay")
    now = SystemClock().now()  # coturn checks the expiry against its own clock
    consumer = rtc_configuration(config, "p_consumer", now)
    provider = rtc_configuration(config, "p_provider", now)
    page.evaluate(f"window.call({json.dumps(consumer)}, {json.dumps(provider)})")


def _reports(page: Page) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = page.evaluate("window.report()")
    return reports


def _until_media(page: Page) -> list[dict[str, Any]]:
    deadline = time.monotonic() + CONNECT_SECONDS
    while time.monotonic() < deadline:
        reports = _reports(page)
        if all(r["framesDecoded"] > 10 and r["samplesReceived"] > 0 for r in reports):
            return reports
        time.sleep(0.2)
    raise AssertionError(f"no media within {CONNECT_SECONDS} s: {_reports(page)}")


def test_chromium_calls_relay_only_through_coturn(page, turn_server):
    _start(page, turn_server, turn_server.secret)

    reports = _until_media(page)

    for report in reports:
        assert report["state"] == "connected"
        assert set(report["candidates"]) == {"relay"}
        assert report["localType"] == report["remoteType"] == "relay"
    assert page.evaluate("window.iceErrors") == []
    log = turn_server.log_text()
    assert ":p_consumer>: incoming packet ALLOCATE processed, success" in log
    assert ":p_provider>: incoming packet ALLOCATE processed, success" in log


def test_chromium_with_a_wrong_secret_gets_401_and_no_call(page, turn_server):
    _start(page, turn_server, secrets.token_hex(24))
    time.sleep(REFUSED_WATCH_SECONDS)

    reports = _reports(page)

    assert 401 in page.evaluate("window.iceErrors")
    for report in reports:
        assert report["candidates"] == []
        assert report["framesDecoded"] == report["samplesReceived"] == 0
        assert report["state"] != "connected"
    assert "ALLOCATE processed, success" not in turn_server.log_text()
