"""One WebSocket connection's state machine: which frames it accepts, where it can go.

```
CONNECTING --hello ok--> LOBBY --admitted--> CALL --leave/end--> CLOSED
     |                     |  \\--denied--> DENIED (then CLOSED)
     |                     +--meeting ended--> CLOSED
     +--hello (staff, meeting)--> CALL
     +--hello (board)--> BOARD
```

`ACCEPTS` is the protocol's table of client frames per state; a frame outside it is a
protocol error (close 4400). `move` refuses a transition the diagram does not have, so a
bug in the endpoint shows up as an error, not as a connection in an impossible state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum

from openvisit.auth.users import UserView
from openvisit.meetings.visits import Presence
from openvisit.realtime import protocol

logger = logging.getLogger(__name__)


class State(Enum):
    CONNECTING = "connecting"
    LOBBY = "lobby"
    CALL = "call"
    BOARD = "board"
    DENIED = "denied"
    CLOSED = "closed"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.CONNECTING: frozenset({State.LOBBY, State.CALL, State.BOARD, State.CLOSED}),
    State.LOBBY: frozenset({State.CALL, State.DENIED, State.CLOSED}),
    State.CALL: frozenset({State.CLOSED}),
    State.BOARD: frozenset({State.CLOSED}),
    State.DENIED: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
}

HEARTBEATS = frozenset({"ping", "pong"})
STAFF_ONLY = frozenset({"admit", "deny", "providerStatus", "lobby.reply", "end", "invite"})
ACCEPTS: dict[State, frozenset[str]] = {
    State.CONNECTING: frozenset({"hello"}),
    State.LOBBY: HEARTBEATS | {"chat.send", "deviceCheck", "leave"},
    State.CALL: HEARTBEATS | {"chat.send", "signal", "media", "leave"} | STAFF_ONLY,
    State.BOARD: HEARTBEATS | {"admit", "deny", "providerStatus", "lobby.reply"},
    State.DENIED: frozenset(),
    State.CLOSED: frozenset(),
}

# Frames waiting to be written to one slow client; past this it is dropped (4408) and
# reconnects to a fresh snapshot rather than holding the server's memory.
OUTBOX_LIMIT = 256


class IllegalTransition(RuntimeError):
    pass


Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


@dataclass(eq=False)
class Connection:
    """A connected page: who it is (after hello), its state, and its outgoing frames.

    Frames are queued by `push` (from the hub, never blocking) and written by one writer
    task, which also sends the heartbeat pings, so one slow client delays nobody else.
    """

    connection_id: str
    send_text: Send
    close_socket: Close
    loop: asyncio.AbstractEventLoop
    state: State = State.CONNECTING
    presence: Presence | None = None
    staff_user: UserView | None = None  # the signed-in staff user, on staff connections
    board_staff_ids: tuple[str, ...] = ()  # a board: the staff members whose day it shows
    board_meeting_ids: tuple[str, ...] = ()  # a board: the meetings of that day
    seq: int = 0
    closing: bool = False
    last_lobby: tuple[int, int, int, str] | None = None
    # Until the welcome is queued, frames wait here: the welcome always comes first.
    early: list[protocol.ServerFrame] | None = field(default_factory=list)
    _outbox: asyncio.Queue[protocol.ServerFrame | tuple[int, str]] = field(
        default_factory=lambda: asyncio.Queue(OUTBOX_LIMIT)
    )

    @property
    def participant_id(self) -> str | None:
        return self.presence.participant_id if self.presence else None

    @property
    def meeting_id(self) -> str | None:
        return self.presence.meeting_id if self.presence else None

    @property
    def is_staff(self) -> bool:
        return self.presence is not None and self.presence.is_staff

    def accepts(self, frame_type: str) -> bool:
        if frame_type not in ACCEPTS[self.state]:
            return False
        return not (frame_type in STAFF_ONLY and self.state == State.CALL and not self.is_staff)

    def move(self, to: State) -> None:
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {to.value}")
        self.state = to

    def push(self, frame: protocol.ServerFrame) -> None:
        """Queue a frame for this client (from this connection's loop only)."""
        if self.closing:
            return
        if self.early is not None:
            self.early.append(frame)
            return
        try:
            self._outbox.put_nowait(frame)
        except asyncio.QueueFull:
            logger.info("connection %s fell behind; closing it", self.connection_id)
            self.close(4408, "too slow: reconnect")

    def welcome(self, frame: protocol.ServerFrame) -> None:
        """Queue the welcome, then whatever arrived while it was being built."""
        early, self.early = self.early or [], None
        self.push(frame)
        for pending in early:
            self.push(pending)

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (from this connection's loop only)."""
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait((code, reason))
        if self._outbox.full():  # no room for the close: make some
            with contextlib.suppress(asyncio.QueueEmpty):
                self._outbox.get_nowait()
            self._outbox.put_nowait((code, reason))

    async def write(self, frame: protocol.ServerFrame) -> None:
        if frame.type not in protocol.UNSEQUENCED:
            self.seq += 1
            frame = frame.model_copy(update={"seq": self.seq})
        await self.send_text(protocol.encode(frame))

    async def run_writer(self, heartbeat_seconds: float) -> None:
        """Write queued frames, and a ping every `heartbeat_seconds` however busy the
        connection is: the client's pong is what proves it is still there."""
        next_ping = self.loop.time() + heartbeat_seconds
        while True:
            try:
                wait = max(0.0, next_ping - self.loop.time())
                item = await asyncio.wait_for(self._outbox.get(), wait)
            except TimeoutError:
                item = None
            if isinstance(item, tuple):
                await self._close(*item)
                return
            if item is not None:
                await self.write(item)
            if self.loop.time() >= next_ping:
                await self.write(protocol.ServerPing(t=round(self.loop.time() * 1000)))
                next_ping = self.loop.time() + heartbeat_seconds

    async def _close(self, code: int, reason: str) -> None:
        self.closing = True
        if self.state != State.CLOSED:
            self.state = State.CLOSED
        with contextlib.suppress(Exception):  # the peer may be gone already
            await self.close_socket(code, reason)
