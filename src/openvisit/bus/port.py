"""The event bus port: how lobby, signaling and chat events reach every server process.

Contract, for every adapter (inprocess.py, redis.py, postgres.py):

- `start(deliver, on_reconnect)` is awaited once on the event loop that will own the bus;
  `deliver(channel, payload)` and `on_reconnect()` are then called on that loop, never from
  another thread. `deliver` must not block; an exception it raises is logged and the next
  event is delivered as usual.
- A `publish(channel, payload)` reaches every process that has subscribed to `channel`,
  the publishing one included, once each, in the order one process published them.
- Delivery is at most once. While a connection to Redis or PostgreSQL is down, events
  published anywhere are lost for the processes that cannot hear them. Once the adapter is
  connected and subscribed again it calls `on_reconnect()`: the caller then reloads what it
  shows from the database (lobby, call state, chat after the last id it has).
- `subscribe` is idempotent, and once it returns the subscription is in place: an event
  published after that reaches this process. `unsubscribe` stops delivery at once (events
  already on the wire are dropped locally).
- `publish_threadsafe` is for code on other threads (services publish after commit from
  worker threads): it checks the arguments, queues the event for the bus's loop and returns
  without waiting for the network. Invalid arguments raise in the caller's thread; a bus
  that is not running, a full queue or a network failure drops the event and logs it.
- `connected` tells whether events published now reach every process: true while the
  bus runs and, for Redis or PostgreSQL, while its listening connection is up; false
  before `start`, after `stop`, and from a lost connection until it is back. `/readyz`
  reports a network bus that is not connected (app.py). Any thread may read it.
- Payloads are JSON text made by the caller. Channels are short ASCII names such as
  `meeting:<id>` or `staff:<id>` (printable, no spaces, at most 200 characters).
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

Deliver = Callable[[str, str], None]
logger = logging.getLogger("openvisit.bus")

CHANNEL_MAX_LENGTH = 200
_CHANNEL = re.compile(rf"[!-~]{{1,{CHANNEL_MAX_LENGTH}}}")


class EventBus(Protocol):
    name: str  # "inprocess" | "redis" | "postgres"
    crosses_processes: bool

    @property
    def connected(self) -> bool: ...

    async def start(
        self, deliver: Deliver, on_reconnect: Callable[[], None] | None = None
    ) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, payload: str) -> None: ...

    def publish_threadsafe(self, channel: str, payload: str) -> None: ...

    async def subscribe(self, channel: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...


class BusError(Exception):
    """Base of the errors an event bus raises."""


class InvalidChannelError(BusError, ValueError):
    """A channel name that is empty, too long, or holds spaces or non-ASCII characters."""


class PayloadTooLargeError(BusError, ValueError):
    """A payload bigger than the adapter can carry (PostgreSQL NOTIFY: under 8000 bytes)."""


class InvalidPayloadError(BusError, ValueError):
    """A payload that is not text, or holds a NUL character (JSON text never does)."""


class BusNotRunningError(BusError, RuntimeError):
    """`publish` or `subscribe` on a bus that was not started, or was stopped."""


class BusUnavailableError(BusError, ConnectionError):
    """Redis or PostgreSQL did not answer: the event was not published."""


def check_channel(channel: str) -> str:
    if not isinstance(channel, str) or _CHANNEL.fullmatch(channel) is None:
        raise InvalidChannelError(
            f"Invalid event channel {channel!r}: use 1 to {CHANNEL_MAX_LENGTH} printable "
            "ASCII characters without spaces, such as 'meeting:<id>'."
        )
    return channel


def check_payload(payload: str) -> str:
    # PostgreSQL cannot carry NUL in text; refusing it everywhere keeps the adapters alike.
    if not isinstance(payload, str) or "\x00" in payload:
        raise InvalidPayloadError("An event payload is JSON text, without NUL characters.")
    return payload


class LoopBoundBus(ABC):
    """What every adapter shares: the loop it runs on once started, the handler, the
    channels this process listens to, and so `publish_threadsafe` and local delivery.

    An adapter sets `_loop` and `_deliver` in `start` (clearing them in `stop`) and says in
    `_accept` what becomes of an event once it is on the loop: delivered here (in-process)
    or queued for the network.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Deliver | None = None
        self._channels: set[str] = set()

    @property
    def connected(self) -> bool:
        return self._loop is not None

    @abstractmethod
    def _accept(self, channel: str, payload: str) -> None:
        """On the bus's loop: take an event `publish_threadsafe` handed over."""

    def _check(self, channel: str, payload: str) -> None:
        check_channel(channel)
        check_payload(payload)

    def publish_threadsafe(self, channel: str, payload: str) -> None:
        self._check(channel, payload)
        loop = self._loop
        if loop is None:
            logger.debug("event bus not running; dropped an event on %s", channel)
            return
        try:
            loop.call_soon_threadsafe(self._accept, channel, payload)
        except RuntimeError:  # the loop closed since we looked
            logger.debug("event loop closed; dropped an event on %s", channel)

    def _dispatch(self, channel: str, payload: str) -> None:
        # Filtering here too: an event may arrive just after its unsubscribe went out.
        deliver = self._deliver
        if deliver is None or channel not in self._channels:
            return
        try:
            deliver(channel, payload)
        except Exception:  # one broken handler must not stop the others' events
            logger.exception("event handler failed for channel %s", channel)
