"""Calls relayed through a real coturn with the TURN REST credentials of meetings/ice.py.

Two aiortc peers with iceTransportPolicy "relay" gather only relay candidates, so media
can pass only through the TURN server, and only if it accepted both credentials. The
first test is the control of the other two: the same call, with credentials coturn takes.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest

from openvisit.clock import SystemClock
from openvisit.meetings.ice import IceConfig, rtc_configuration
from tests.media.coturn import TurnServer, running_turnserver
from tests.media.peers import (
    Peer,
    aiortc_configuration,
    mean_luma,
    negotiate,
    rms,
    wait_for_media,
)

pytestmark = pytest.mark.usefixtures("loopback_ice")

CONNECT_SECONDS = 20.0
# A refused allocation is answered at once; this long without media shows no call came of it.
REFUSED_WATCH_SECONDS = 3.0
FRAMES = 15
CONSUMER_YUV = (200, 90, 160)
PROVIDER_YUV = (60, 170, 100)


@dataclass
class Call:
    consumer: Peer
    provider: Peer
    usernames: dict[str, str]  # participant id -> TURN username

    @property
    def peers(self) -> list[Peer]:
        return [self.consumer, self.provider]


def _call(turn: TurnServer, *, secret: str | None = None, age: timedelta = timedelta(0)) -> Call:
    """Both peers, in the running loop (aiortc binds its objects to it)."""
    config = IceConfig(
        turn_urls=(turn.url,), turn_secret=secret or turn.secret, transport_policy="relay"
    )
    # coturn checks the expiry against its own clock, so the credentials use the real time.
    now = SystemClock().now() - age
    configurations = {
        pid: rtc_configuration(config, pid, now) for pid in ("consumer-1", "provider-1")
    }
    usernames = {pid: c["iceServers"][0]["username"] for pid, c in configurations.items()}
    consumer = Peer.create(
        "consumer", aiortc_configuration(configurations["consumer-1"]), CONSUMER_YUV
    )
    provider = Peer.create(
        "provider", aiortc_configuration(configurations["provider-1"]), PROVIDER_YUV
    )
    return Call(consumer, provider, usernames)


async def _connect(turn: TurnServer, *, secret: str | None = None) -> Call:
    call = _call(turn, secret=secret)
    try:
        await negotiate(call.consumer, call.provider)
        await wait_for_media(call.peers, frames=FRAMES, timeout=CONNECT_SECONDS)
    finally:
        await asyncio.gather(*(peer.close() for peer in call.peers))
    return call


async def _refused(
    turn: TurnServer, *, secret: str | None = None, age: timedelta = timedelta(0)
) -> Call:
    call = _call(turn, secret=secret, age=age)
    try:
        await negotiate(call.consumer, call.provider)
        await asyncio.sleep(REFUSED_WATCH_SECONDS)
        assert [peer.pc.connectionState for peer in call.peers] == ["new", "new"]
    finally:
        await asyncio.gather(*(peer.close() for peer in call.peers))
    return call


def test_a_relay_only_call_passes_video_and_audio_through_coturn(turn_server):
    call = asyncio.run(_connect(turn_server))

    assert call.consumer.local_candidate_types() == {"relay"}
    assert call.provider.local_candidate_types() == {"relay"}
    # Each side decodes the other's colour and tone, so the media crossed the relay intact.
    assert abs(mean_luma(call.consumer.video[-1]) - PROVIDER_YUV[0]) < 12
    assert abs(mean_luma(call.provider.video[-1]) - CONSUMER_YUV[0]) < 12
    assert rms(call.consumer.audio[-1]) > 1000
    assert rms(call.provider.audio[-1]) > 1000
    log = turn_server.log_text()
    for username in call.usernames.values():
        assert f"user <{username}>: incoming packet ALLOCATE processed, success" in log
        assert f"user <{username}>: incoming packet CHANNEL_BIND processed, success" in log


def test_while_the_secret_rotates_credentials_of_both_secrets_relay(tmp_path):
    old, new = secrets.token_hex(24), secrets.token_hex(24)
    with running_turnserver(tmp_path / "coturn", new, other_secrets=[old]) as turn:
        call = asyncio.run(_connect(turn, secret=old))

    assert min(len(call.consumer.video), len(call.provider.video)) >= FRAMES


def _assert_refused(call: Call, turn: TurnServer) -> None:
    assert call.consumer.local_candidate_types() == set()
    assert call.provider.local_candidate_types() == set()
    assert call.consumer.video == call.provider.video == []
    assert call.consumer.audio == call.provider.audio == []
    log = turn.log_text()
    assert (
        f"user <{call.usernames['consumer-1']}>: incoming packet message processed, error 401"
        in log
    )
    assert "ALLOCATE processed, success" not in log


def test_a_wrong_secret_gets_no_relay_and_no_call(turn_server):
    call = asyncio.run(_refused(turn_server, secret=secrets.token_hex(24)))

    _assert_refused(call, turn_server)


def test_expired_credentials_get_no_relay_and_no_call(turn_server):
    ttl = IceConfig().ttl_seconds
    call = asyncio.run(_refused(turn_server, age=timedelta(seconds=ttl + 5)))  # expired 5 s ago

    _assert_refused(call, turn_server)
