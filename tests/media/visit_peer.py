"""An aiortc participant of a visit, speaking /realtime/v1 (docs/realtime-protocol.md).

`VisitPeer` connects with the `websockets` client, sends `hello` with a join token (a
consumer or guest link), answers the server's pings, waits in the lobby until admitted,
then, as the newcomer, offers one `tests.media.peers.Peer` (a colour and a tone) to every
call member with the whole SDP once gathered, and applies their answers. What it receives
is kept on those peers, so a test checks frames, not only ICE states.

`ThreadedVisitPeer` runs one in its own asyncio loop in a thread, for tests whose thread
is held by Playwright's sync API: it connects on entering, joins the call once admitted,
and `threaded.run(lambda: coroutine, timeout)` waits for a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiortc import RTCSessionDescription
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.media.peers import Peer, aiortc_configuration

T = TypeVar("T")
IN_CALL = {"call", "inCall", "admitted", "joined"}
YUV_GREEN = (150, 44, 21)


class VisitPeer:
    """One participant page, played by aiortc."""

    def __init__(self, base_url: str, join: str, *, name: str | None = None) -> None:
        self.url = base_url.replace("http://", "ws://", 1) + "/realtime/v1"
        self.join = join
        self.name = name
        self.frames: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] = {}
        self.peers: dict[str, Peer] = {}
        self.close_code: int | None = None
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def participant_id(self) -> str:
        return str(self.welcome["you"]["participantId"])

    async def connect(self) -> dict[str, Any]:
        """Opens the socket and says hello; returns the `welcome`."""
        self._socket = await connect(self.url, open_timeout=10)
        hello: dict[str, Any] = {"type": "hello", "v": 1, "join": self.join}
        if self.name is not None:
            hello["name"] = self.name
        await self.send(hello)
        self._reader = asyncio.ensure_future(self._read())
        self.welcome = await self.wait_for(lambda f: f["type"] == "welcome", timeout=10)
        return self.welcome

    async def send(self, frame: dict[str, Any]) -> None:
        assert self._socket is not None, "connect() first"
        await self._socket.send(json.dumps(frame))

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], *, timeout: float
    ) -> dict[str, Any]:
        """The first frame received so far (or later) that matches, or TimeoutError."""

        async def found() -> dict[str, Any]:
            while True:
                for frame in self.frames:
                    if match(frame):
                        return frame
                if self.close_code is not None:
                    raise ConnectionError(f"closed {self.close_code}: {self.frames[-3:]}")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(found(), timeout)

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float) -> None:
        """Until `condition()` holds (checked every 50 ms), or TimeoutError."""

        async def holds() -> None:
            while not condition():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(holds(), timeout)

    async def leave(self) -> None:
        """Sends `leave`; the server closes with 1000."""
        await self.send({"type": "leave"})
        await self.wait_until(lambda: self.close_code is not None, timeout=5)

    async def join_call(self, *, admitted_within: float) -> list[str]:
        """Waits to be admitted, then offers to every call member; returns their ids."""
        await self.wait_for(lambda f: f["type"] == "admitted", timeout=admitted_within)
        snapshot = await self.wait_for(
            lambda f: f["type"] == "snapshot" and _state(f) == "call", timeout=10
        )
        members = [
            person["participantId"]
            for person in _snapshot(snapshot).get("participants", [])
            if person["participantId"] != self.participant_id and person.get("state") in IN_CALL
        ]
        configuration = aiortc_configuration(self.welcome["rtcConfiguration"])
        for member in members:
            peer = Peer.create(f"aiortc→{member}", configuration, YUV_GREEN)
            self.peers[member] = peer
            # aiortc gathers inside setLocalDescription: the SDP goes out whole.
            await peer.pc.setLocalDescription(await peer.pc.createOffer())
            offer = peer.pc.localDescription
            await self.send(
                {
                    "type": "signal",
                    "to": member,
                    "description": {"type": offer.type, "sdp": offer.sdp},
                }
            )
        return members

    async def close(self) -> None:
        for peer in self.peers.values():
            await peer.close()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for message in self._socket:
                frame = json.loads(message)
                self.frames.append(frame)
                await self._on(frame)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._socket.close_code or 1006
            self._changed.set()

    async def _on(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "ping":
            await self.send({"type": "pong", "t": frame.get("t")})
        elif frame["type"] == "signal" and frame.get("description"):
            await self._on_description(frame["from"], frame["description"])

    async def _on_description(self, sender: str, description: dict[str, str]) -> None:
        peer = self.peers.get(sender)
        if peer is None:
            return  # only answers to our offers: the newcomer offers (the protocol)
        if description["type"] == "answer" and peer.pc.signalingState == "have-local-offer":
            await peer.pc.setRemoteDescription(
                RTCSessionDescription(sdp=description["sdp"], type=description["type"])
            )


def _snapshot(frame: dict[str, Any]) -> dict[str, Any]:
    inner = frame.get("snapshot")
    return inner if isinstance(inner, dict) else frame


def _state(frame: dict[str, Any]) -> str | None:
    state = _snapshot(frame).get("state")
    return state if isinstance(state, str) else None


class ThreadedVisitPeer:
    """A VisitPeer in its own loop and thread, connected and joining the call once admitted."""

    def __init__(
        self, peer_factory: Callable[[], VisitPeer], *, admitted_within: float = 60
    ) -> None:
        self._factory = peer_factory
        self._admitted_within = admitted_within
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._joining: asyncio.Task[list[str]] | None = None
        self.peer: VisitPeer

    def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        async def wrapped() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def __enter__(self) -> ThreadedVisitPeer:
        self._thread.start()

        async def start() -> None:
            # Made inside the loop: its asyncio objects belong to it.
            self.peer = self._factory()
            await self.peer.connect()
            self._joining = asyncio.ensure_future(
                self.peer.join_call(admitted_within=self._admitted_within)
            )

        self.run(start, timeout=15)
        return self

    def __exit__(self, *exc_info: object) -> None:
        async def stop() -> None:
            if self._joining is not None:
                self._joining.cancel()
                await asyncio.gather(self._joining, return_exceptions=True)
            await self.peer.close()

        try:
            self.run(stop, timeout=15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()
