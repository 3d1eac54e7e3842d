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
_CloseItem = tuple[int, str]


@dataclass(eq=False, slots=True)
class Connection:
    """A connected page: who it is (after hello), its state, and its outgoing frames.

    A waiting room holds thousands of these, so an idle one owns no task, no queue and no
    timer: the page's own ASGI task reads its frames, `push` (from the hub, never blocking)
    appends to a plain list and starts a short-lived flusher only while something is to be
    written, and the hub's one heartbeat loop pings every connection (docs/performance.md,
    "Waiting room fan-out"). One slow client still delays nobody else: its flusher waits
    alone, and past OUTBOX_LIMIT it is closed.
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
    last_lobby: tuple[object, ...] | None = None
    heard_at: float = 0.0  # loop time of the client's latest frame (the heartbeat's check)
    # Until the welcome is queued, frames wait here: the welcome always comes first.
    early: list[protocol.ServerFrame] | None = field(default_factory=list)
    _outbox: list[protocol.ServerFrame | _CloseItem] = field(default_factory=list)
    _flusher: asyncio.Task[None] | None = None

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

    def heard(self) -> None:
        self.heard_at = self.loop.time()

    def push(self, frame: protocol.ServerFrame) -> None:
        """Queue a frame for this client (from this connection's loop only)."""
        if self.closing:
            return
        if self.early is not None:
            self.early.append(frame)
            return
        if len(self._outbox) >= OUTBOX_LIMIT:
            logger.info("connection %s fell behind; closing it", self.connection_id)
            self.close(4408, "too slow: reconnect")
            return
        self._outbox.append(frame)
        self._flush_soon()

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
        if len(self._outbox) >= OUTBOX_LIMIT:  # no room for the close: make some
            self._outbox.pop()
        self._outbox.append((code, reason))
        self._flush_soon()

    async def closed(self, timeout: float) -> None:
        """Wait (at most `timeout`) for the queued frames and the close to be written."""
        flusher = self._flusher
        if flusher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(flusher), timeout)

    def gone(self) -> None:
        """The client went away: nothing more is written."""
        self.closing = True
        self.state = State.CLOSED
        self._outbox.clear()
        if self._flusher is not None:
            self._flusher.cancel()

    async def write(self, frame: protocol.ServerFrame) -> None:
        if frame.type not in protocol.UNSEQUENCED:
            self.seq += 1
            frame = frame.model_copy(update={"seq": self.seq})
        await self.send_text(protocol.encode(frame))

    def _flush_soon(self) -> None:
        if self._flusher is None:
            self._flusher = self.loop.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._outbox:
                item = self._outbox.pop(0)
                if isinstance(item, tuple):
                    self._outbox.clear()
                    await self._close(*item)
                    return
                await self.write(item)
        except Exception:  # a client gone mid-write: its reader sees it and ends
            logger.debug("connection %s: write failed", self.connection_id, exc_info=True)
            self.closing = True
            self._outbox.clear()
        finally:
            self._flusher = None

    async def _close(self, code: int, reason: str) -> None:
        self.closing = True
        if self.state != State.CLOSED:
            self.state = State.CLOSED
        with contextlib.suppress(Exception):  # the peer may be gone already
            await self.close_socket(code, reason)
