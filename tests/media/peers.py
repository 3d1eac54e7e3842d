"""aiortc peers for the media tests: real WebRTC in this process, media we can check.

- `use_loopback_host_addresses` makes aioice offer 127.0.0.1 as its host candidate, which
  it never does by itself (a loopback-only test would gather nothing).
- `aiortc_configuration` turns the RTCConfiguration JSON a page gets (meetings/ice.py)
  into aiortc's objects, so a Python peer joins with exactly what a browser is given.
- `ColorVideoTrack` sends a solid colour and `ToneAudioTrack` a square wave; a `Peer`
  keeps what it receives, so a test asserts that those frames arrived, not only that
  ICE said "connected".
"""

from __future__ import annotations

import array
import asyncio
import fractions
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from openvisit.meetings.ice import RtcConfiguration

VIDEO_RATE = 90_000
FRAME_SECONDS = 1 / 30
AUDIO_RATE = 8_000
AUDIO_SAMPLES = 160  # 20 ms
TONE_PERIOD = 20  # samples: 400 Hz at 8 kHz
TONE_AMPLITUDE = 8_000


def use_loopback_host_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have aioice gather host candidates on 127.0.0.1 only (for the rest of the test)."""

    def loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []

    monkeypatch.setattr(aioice.ice, "get_host_addresses", loopback)


def aiortc_configuration(configuration: RtcConfiguration) -> RTCConfiguration:
    servers = [
        RTCIceServer(
            urls=server["urls"],
            username=server.get("username"),
            credential=server.get("credential"),
        )
        for server in configuration["iceServers"]
    ]
    policies = {"all": RTCIceTransportPolicy.ALL, "relay": RTCIceTransportPolicy.RELAY}
    return RTCConfiguration(
        iceServers=servers, iceTransportPolicy=policies[configuration["iceTransportPolicy"]]
    )


class ColorVideoTrack(MediaStreamTrack):
    """320x240 frames of one YUV colour at 30 fps."""

    kind = "video"

    def __init__(self, yuv: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> None:
        super().__init__()
        self.yuv = yuv
        self.size = size
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await _pace(self, self._count * FRAME_SECONDS)
        frame = VideoFrame(self.size[0], self.size[1], "yuv420p")
        for plane, value in zip(frame.planes, self.yuv, strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = round(self._count * FRAME_SECONDS * VIDEO_RATE)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self._count += 1
        return frame


class ToneAudioTrack(MediaStreamTrack):
    """A 400 Hz square wave, mono, 8 kHz, in 20 ms frames."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._count = 0
        self._start: float | None = None
        half = TONE_PERIOD // 2
        wave = [TONE_AMPLITUDE] * half + [-TONE_AMPLITUDE] * half
        self._samples = array.array("h", wave * (AUDIO_SAMPLES // TONE_PERIOD)).tobytes()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await _pace(self, self._count * AUDIO_SAMPLES / AUDIO_RATE)
        frame = AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(self._samples)
        frame.pts = self._count * AUDIO_SAMPLES
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._count += 1
        return frame


async def _pace(track: ColorVideoTrack | ToneAudioTrack, offset: float) -> None:
    loop = asyncio.get_running_loop()
    if track._start is None:
        track._start = loop.time()
    await asyncio.sleep(max(0.0, track._start + offset - loop.time()))


def mean_luma(frame: VideoFrame) -> float:
    """Mean of the Y plane, without the padding at the end of each line."""
    plane = frame.planes[0]
    data = bytes(plane)
    rows = [
        data[row * plane.line_size : row * plane.line_size + plane.width]
        for row in range(plane.height)
    ]
    return sum(sum(row) for row in rows) / (plane.width * plane.height)


def rms(frame: AudioFrame) -> float:
    """Root mean square of an s16 frame's samples (all channels)."""
    channels = len(frame.layout.channels)
    samples = array.array("h", bytes(frame.planes[0])[: frame.samples * channels * 2])
    return math.sqrt(sum(sample * sample for sample in samples) / max(1, len(samples)))


@dataclass
class Peer:
    """One RTCPeerConnection that sends a colour and a tone and keeps what it receives."""

    name: str
    pc: RTCPeerConnection
    video: list[VideoFrame] = field(default_factory=list)
    audio: list[AudioFrame] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, configuration: RTCConfiguration, yuv: tuple[int, int, int]) -> Peer:
        peer = cls(name, RTCPeerConnection(configuration))
        peer.pc.addTrack(ColorVideoTrack(yuv))
        peer.pc.addTrack(ToneAudioTrack())
        peer.pc.on("track", peer._on_track)
        return peer

    def _on_track(self, track: MediaStreamTrack) -> None:
        frames: list[Any] = self.video if track.kind == "video" else self.audio
        self._readers.append(asyncio.ensure_future(_read(track, frames)))

    def local_candidate_types(self) -> set[str]:
        """Types (host, srflx, relay) of the candidates this peer offered in its SDP."""
        description = self.pc.localDescription
        sdp = description.sdp if description is not None else ""
        return set(re.findall(r"^a=candidate:.* typ (\w+)", sdp, re.MULTILINE))

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def _read(track: MediaStreamTrack, frames: list[Any]) -> None:
    while True:
        try:
            frames.append(await track.recv())
        except MediaStreamError:
            return


async def negotiate(offerer: Peer, answerer: Peer) -> None:
    """Offer and answer with complete candidates (aiortc gathers inside setLocalDescription)."""
    await offerer.pc.setLocalDescription(await offerer.pc.createOffer())
    await answerer.pc.setRemoteDescription(offerer.pc.localDescription)
    await answerer.pc.setLocalDescription(await answerer.pc.createAnswer())
    await offerer.pc.setRemoteDescription(answerer.pc.localDescription)


async def wait_for_media(peers: Sequence[Peer], *, frames: int, timeout: float) -> None:
    """Until every peer has received `frames` video and `frames` audio frames, or fail."""

    async def enough() -> None:
        while not all(len(p.video) >= frames and len(p.audio) >= frames for p in peers):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(enough(), timeout)


async def wait_for_state(peers: Sequence[Peer], states: set[str], *, timeout: float) -> None:
    """Until every peer's connectionState is one of `states`, or TimeoutError."""

    async def reached() -> None:
        while not all(p.pc.connectionState in states for p in peers):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(reached(), timeout)
