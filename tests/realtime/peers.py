"""Test-side WebSocket peers of /realtime/v1: hello, frames with timeouts, close codes.

TestClient's WebSocket session blocks for ever on a frame that never comes; every read
here is bounded, so a missing frame fails the test in seconds instead of hanging it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from openvisit.auth.sessions import SESSION_COOKIE

PATH = "/realtime/v1"
ORIGIN = "http://testserver"
READ_SECONDS = 5.0


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


class Peer:
    """One page's connection: frames read in order, heartbeat pings skipped."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session
        self.seen: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any]) -> None:
        self.session.send_text(json.dumps(frame))

    def frame(self, timeout: float = READ_SECONDS) -> dict[str, Any]:
        """The next frame other than a server ping; Closed when the server closed."""
        while True:
            message = self._receive(timeout)
            if message["type"] == "websocket.close":
                raise Closed(message.get("code", 1000), message.get("reason") or "")
            frame: dict[str, Any] = json.loads(message["text"])
            if frame["type"] != "ping":
                self.seen.append(frame)
                return frame

    def until(self, frame_type: str, timeout: float = READ_SECONDS) -> dict[str, Any]:
        """Skip frames up to the first of `frame_type`."""
        while True:
            frame = self.frame(timeout)
            if frame["type"] == frame_type:
                return frame

    def closed(self, timeout: float = READ_SECONDS) -> tuple[int, list[dict[str, Any]]]:
        """Read up to the close: its code, and the frames before it."""
        before = []
        try:
            while True:
                before.append(self.frame(timeout))
        except Closed as closed:
            return closed.code, before

    def nothing_for(self, seconds: float) -> None:
        """Assert no frame (but pings) comes within `seconds`."""
        try:
            frame = self.frame(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    def _receive(self, timeout: float) -> dict[str, Any]:
        async def receive() -> dict[str, Any]:
            with anyio.fail_after(timeout):
                # The session has no public read with a timeout.
                return dict(await self.session._send_rx.receive())

        return self.session.portal.call(receive)


@contextmanager
def connected(
    client: TestClient, *, cookie: str | None = None, origin: str | None = ORIGIN
) -> Iterator[Peer]:
    headers = {}
    if origin is not None:
        headers["origin"] = origin
    if cookie is not None:
        headers["cookie"] = f"{SESSION_COOKIE}={cookie}"
    with client.websocket_connect(PATH, headers=headers) as session:
        yield Peer(session)


def hello(peer: Peer, **fields: Any) -> dict[str, Any]:
    """Send hello and return the welcome."""
    peer.send({"type": "hello", "v": 1, **fields})
    welcome = peer.frame()
    assert welcome["type"] == "welcome", welcome
    return welcome
